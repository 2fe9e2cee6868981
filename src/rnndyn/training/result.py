"""Outcome of a training run (:class:`TrainResult`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import xarray as xr

from rnndyn.training.config import TrainConfig
from rnndyn.training.history import history_dataset
from rnndyn.training.state import TrainingState


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`~rnndyn.training.train`.

    Attributes
    ----------
    status : {"completed", "diverged", "incomplete"}
        ``"incomplete"``: stopped by ``max_epochs_this_run`` (a checkpoint holds the state).
    epochs_run : int
        Epochs completed in total, earlier (resumed) runs included; a diverged epoch counts.
    diverged_epoch : int or None
        1-based epoch whose loss or gradient became non-finite.
    final_loss, final_val_loss : float
        Last entries of the history (non-finite for a diverged run; NaN without validation data).
    history : xarray.Dataset
        Per-epoch ``loss``, ``val_loss``, ``grad_norm``, ``lr``, ``steps_per_s``, ``seconds`` on
        dim ``epoch`` (coordinate 1, 2, ...).
    device : str
        Device the run used.
    """

    status: str
    epochs_run: int
    diverged_epoch: int | None
    final_loss: float
    final_val_loss: float
    history: xr.Dataset
    device: str

    @classmethod
    def of(cls, state: TrainingState, config: TrainConfig, device: torch.device) -> TrainResult:
        """The result of a run that stopped in ``state`` (status ``"running"`` reads as
        ``"incomplete"``)."""
        status = "incomplete" if state.status == "running" else state.status
        history = state.history
        return cls(
            status=status,
            epochs_run=state.epoch,
            diverged_epoch=state.diverged_epoch,
            final_loss=history["loss"][-1] if history["loss"] else math.nan,
            final_val_loss=history["val_loss"][-1] if history["val_loss"] else math.nan,
            history=history_dataset(history, config, status, device),
            device=str(device),
        )
