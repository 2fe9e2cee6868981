"""Replicate networks of one setting: which one a claim or a figure reports."""

from __future__ import annotations

import numpy as np
import xarray as xr


def best_replicate(runs: xr.Dataset) -> xr.Dataset:
    """The replicate (dim ``replicate``) with the lowest final validation loss ``val_loss``.

    A diverged replicate's non-finite loss ranks last; if every replicate diverged the first is
    reported (and its claim fails), never dropped.
    """
    loss = runs["val_loss"].values
    return runs.isel(replicate=int(np.argmin(np.where(np.isfinite(loss), loss, np.inf))))
