"""Replicate networks of one setting: which one a claim or a figure reports, and the median a
finding is judged on."""

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


def median_interval(values: np.ndarray) -> tuple[float, str]:
    """The median over replicates (R,) and its min-max interval, as a phrase for a claim's note.

    With R replicates the min-max range covers the population median with probability 1 - 2^(1-R)
    (75 % for 3, 94 % for 5): an order-statistic interval, no distribution assumed. A NaN (a diverged
    or missing network) makes the median NaN, i.e. a FAILED row, and is counted in the phrase.
    """
    values = np.asarray(values, dtype=float)
    median = float(np.median(values))
    finite = values[np.isfinite(values)]
    span = f"[{finite.min():.4g}, {finite.max():.4g}]" if finite.size else "[nan]"
    coverage = f" (a {1 - 2.0 ** (1 - values.size):.0%} interval for the median)" if values.size > 1 else ""
    extra = f", {values.size - finite.size} not finite" if finite.size < values.size else ""
    plural = "s" if values.size != 1 else ""
    return median, f"median of {values.size} replicate{plural}, min-max {span}{coverage}{extra}"
