"""Per-epoch training history: the record kept while training, and its dataset form.

The history is a dict of lists (one entry per epoch, in :data:`HISTORY_FIELDS`), the form a
checkpoint stores; :func:`history_dataset` turns it into an :class:`xarray.Dataset` whose timing
variables carry the ``wall_clock`` attribute (:data:`rnndyn.store.WALL_CLOCK_ATTR`), so that
determinism checks (:func:`rnndyn.store.array_digest`) leave them out.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import xarray as xr

from rnndyn.store import WALL_CLOCK_ATTR
from rnndyn.training.config import TrainConfig

HISTORY_FIELDS = ("loss", "val_loss", "grad_norm", "lr", "steps_per_s", "seconds")
GTF_FIELDS = ("gtf_alpha",)
"""Recorded in mode ``"gtf"`` only (after :data:`HISTORY_FIELDS`)."""

History = dict[str, list[float]]
"""Per-epoch values of each of :data:`HISTORY_FIELDS`, in epoch order."""


def history_fields(config: TrainConfig | None = None) -> tuple[str, ...]:
    """The fields recorded under ``config``: :data:`HISTORY_FIELDS`, and :data:`GTF_FIELDS` in
    mode ``"gtf"``."""
    gtf = config is not None and config.mode == "gtf"
    return HISTORY_FIELDS + GTF_FIELDS if gtf else HISTORY_FIELDS


def empty_history(config: TrainConfig | None = None) -> History:
    """A history with no epoch yet, with the fields of :func:`history_fields`."""
    return {name: [] for name in history_fields(config)}


def append_record(history: History, record: Mapping[str, float]) -> None:
    """Append one epoch's ``record`` (a value for every field of ``history``)."""
    for name in history:
        history[name].append(record[name])


def _variable_attrs(config: TrainConfig) -> dict[str, dict[str, object]]:
    loss_units = "nat" if config.loss == "cross_entropy" else "(target units)^2"
    return {
        "loss": {
            "long_name": f"training loss ({config.loss}, {config.mode} mode)",
            "units": loss_units,
        },
        "val_loss": {
            "long_name": "validation loss (same objective, no gradient)",
            "units": loss_units,
        },
        "grad_norm": {
            "long_name": "mean L2 norm of the full loss gradient before clipping",
            "units": "loss units per parameter unit",
        },
        "lr": {"long_name": "learning rate during the epoch", "units": "1"},
        "steps_per_s": {
            "long_name": "optimiser steps per second of epoch wall time (validation included)",
            "units": "1/s",
            WALL_CLOCK_ATTR: 1,
        },
        "seconds": {"long_name": "wall time of the epoch", "units": "s", WALL_CLOCK_ATTR: 1},
        "gtf_alpha": {
            "long_name": "generalized teacher forcing alpha at the end of the epoch",
            "units": "1",
        },
    }


def history_dataset(
    history: Mapping[str, list[float]], config: TrainConfig, status: str, device: object
) -> xr.Dataset:
    """The history as a dataset on dim ``epoch`` (coordinate 1, 2, ...).

    Parameters
    ----------
    history : mapping of str to list of float
        Per-epoch values of every one of :func:`history_fields` of ``config``.
    config : TrainConfig
        Names the loss and mode in the attributes.
    status : str
        Outcome of the run (attribute ``status``).
    device : torch.device or str
        Device of the run (attribute ``device``).

    Returns
    -------
    xarray.Dataset
        Float64 variables :func:`history_fields` with ``long_name`` and ``units``; attributes
        ``status``, ``device``, ``mode`` and ``loss``.
    """
    attrs = _variable_attrs(config)
    data = {
        name: ("epoch", np.asarray(history[name], dtype=np.float64), attrs[name])
        for name in history_fields(config)
    }
    epochs = np.arange(1, len(history["loss"]) + 1)
    epoch_attrs = {"long_name": "epoch (1-based)", "units": "1"}
    return xr.Dataset(
        data,
        coords={"epoch": ("epoch", epochs, epoch_attrs)},
        attrs={"status": status, "device": str(device), "mode": config.mode, "loss": config.loss},
    )
