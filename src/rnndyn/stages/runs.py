"""Trained runs shared by the training stages: one store per run, and the best seed of a sweep."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from rnndyn.models.parameters import model_parameters
from rnndyn.training import TrainResult


def training_store(model: torch.nn.Module, result: TrainResult) -> xr.Dataset:
    """A trained network's store: its parameters, the per-epoch history and the run's outcome.

    The history's timings are marked wall-clock, so determinism checks
    (:func:`rnndyn.store.array_digest`) compare everything else.
    """
    return xr.merge([model_parameters(model), result.history]).assign_attrs(
        status=result.status, epochs_run=result.epochs_run,
        diverged_epoch=-1 if result.diverged_epoch is None else result.diverged_epoch,
        final_loss=result.final_loss, final_val_loss=result.final_val_loss, device=result.device)


def best_seed(runs: xr.Dataset) -> xr.Dataset:
    """The run with the lowest final validation loss among the seeds (dim ``seed``); a diverged
    run's non-finite loss ranks last, and if every seed diverged the first is reported."""
    loss = runs["val_loss"].values
    return runs.isel(seed=int(np.argmin(np.where(np.isfinite(loss), loss, np.inf))))
