"""Which replicate a claim or a figure reports."""

import numpy as np
import xarray as xr

from rnndyn.analysis.replicates import best_replicate, median_interval


def test_best_replicate_ranks_a_diverged_run_last():
    runs = xr.Dataset({"val_loss": ("replicate", [np.nan, 0.3, 0.2, np.inf])}, coords={"replicate": [0, 1, 2, 3]})
    assert int(best_replicate(runs)["replicate"]) == 2
    diverged = xr.Dataset({"val_loss": ("replicate", [np.nan, np.nan])}, coords={"replicate": [0, 1]})
    assert int(best_replicate(diverged)["replicate"]) == 0  # reported (and its claim fails), never dropped


def test_median_interval_is_the_median_with_the_min_max_range_and_its_coverage():
    median, note = median_interval(np.array([0.9, 0.7, 1.0]))
    assert median == 0.9 and "median of 3 replicates, min-max [0.7, 1]" in note
    assert "a 75% interval for the median" in note  # 1 - 2^(1 - 3)
    median, note = median_interval(np.array([0.9, np.nan, 1.0]))
    assert np.isnan(median) and "1 not finite" in note
    assert median_interval(np.array([0.5]))[1] == "median of 1 replicate, min-max [0.5, 0.5]"
