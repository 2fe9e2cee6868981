"""Trained runs shared by the training stages: one store per run, and the best seed of a sweep."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

from rnndyn.models.parameters import model_parameters
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed, torch_generator
from rnndyn.store import read_dataset, write_dataset
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


def train_and_store(train_network: Callable[..., xr.Dataset], data: str | Path, name: str, network_cfg: dict[str, Any],
                    *, keys: tuple, base_seed: int, device: str, checkpoint: str | Path, output: str | Path,
                    rule: str, log: logging.Logger) -> None:
    """One training job: train a stage's network on its data store, write the trained store, drop the checkpoint.

    Parameters
    ----------
    train_network
        The stage's ``train_network(data, name, network_cfg, *, init, batches, device,
        checkpoint_path, log)``, returning a :func:`training_store`.
    data
        The stage's data store.
    name, network_cfg
        The network family and its config (the job's only config: analysis settings do not retrain).
    keys
        The job's identity (stage, wildcards): the initial weights and the minibatch order draw from
        the streams ``derive_seed(base_seed, *keys, "init" | "batches")``.
    checkpoint
        Resumed from when present (a preempted run exits with status 75 for a requeue, see
        :class:`rnndyn.training.TrainingInterrupted`); deleted once the output is written.
    """
    checkpoint = Path(checkpoint)
    store = train_network(read_dataset(data), name, network_cfg,
                          init=torch_generator(base_seed, *keys, "init"),
                          batches=torch_generator(base_seed, *keys, "batches"),
                          device=device, checkpoint_path=checkpoint, log=log)
    log.info("status %s after %d epochs, validation loss %.5g", store.attrs["status"], store.attrs["epochs_run"],
             store.attrs["final_val_loss"])
    seeds = {key: derive_seed(base_seed, *keys, key) for key in ("init", "batches")}
    write_dataset(store, output, provenance=provenance(rule=rule, config=network_cfg, seed=seeds,
                                                       device=store.attrs["device"]))
    checkpoint.unlink(missing_ok=True)


def best_seed(runs: xr.Dataset) -> xr.Dataset:
    """The run with the lowest final validation loss among the seeds (dim ``seed``); a diverged
    run's non-finite loss ranks last, and if every seed diverged the first is reported."""
    loss = runs["val_loss"].values
    return runs.isel(seed=int(np.argmin(np.where(np.isfinite(loss), loss, np.inf))))
