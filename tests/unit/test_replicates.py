"""Which replicate a claim or a figure reports."""

import numpy as np
import xarray as xr

from rnndyn.analysis.replicates import best_replicate


def test_best_replicate_ranks_a_diverged_run_last():
    runs = xr.Dataset({"val_loss": ("replicate", [np.nan, 0.3, 0.2, np.inf])}, coords={"replicate": [0, 1, 2, 3]})
    assert int(best_replicate(runs)["replicate"]) == 2
    diverged = xr.Dataset({"val_loss": ("replicate", [np.nan, np.nan])}, coords={"replicate": [0, 1]})
    assert int(best_replicate(diverged)["replicate"]) == 0  # reported (and its claim fails), never dropped
