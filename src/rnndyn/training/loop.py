"""The training loop: :func:`train` runs epochs until the run completes, diverges, is stopped or
is preempted, checkpointing on the way."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from rnndyn.devices import select_device
from rnndyn.models import RecurrentModel
from rnndyn.training.checkpoint import Checkpointer, restore_checkpoint
from rnndyn.training.config import TrainConfig
from rnndyn.training.data import TrainingData
from rnndyn.training.epoch import run_epoch
from rnndyn.training.preemption import TrainingInterrupted, preemption_guard
from rnndyn.training.progress import ProgressLog
from rnndyn.training.result import TrainResult
from rnndyn.training.state import TrainingState

logger = logging.getLogger(__name__)


def train(
    model: RecurrentModel,
    train_data: tuple[torch.Tensor, torch.Tensor],
    val_data: tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    config: TrainConfig | Mapping[str, Any],
    seed: int | torch.Generator,
    device: str | torch.device = "auto",
    checkpoint_path: str | os.PathLike | None = None,
    log: logging.Logger = logger,
    max_epochs_this_run: int | None = None,
    callback: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place; resume from ``checkpoint_path`` when that file exists.

    Parameters
    ----------
    model : RecurrentModel
        Moved to ``device``; on return it holds the final weights (for a diverged run, the
        weights at the end of the last epoch whose losses and gradients were all finite).
    train_data, val_data : (inputs, targets)
        ``inputs`` (N, T, input_size); ``targets`` (N, T, output_size) for ``"mse"``, class
        indices (N, T) or probabilities (N, T, C) for ``"cross_entropy"``. Moved to the device
        once. Without ``val_data`` the validation loss is NaN.
    config : TrainConfig or mapping
        See :class:`TrainConfig`; a mapping goes through :meth:`TrainConfig.from_dict`.
    seed : int or torch.Generator
        Source of the minibatch order (the only randomness of training); its state is
        checkpointed.
    device : {"auto", "cpu", "cuda"} or torch.device
        See :func:`rnndyn.devices.select_device`.
    checkpoint_path : path, optional
        Checkpoint file (see :mod:`rnndyn.training.checkpoint`), written atomically every
        ``config.checkpoint_every`` epochs and/or ``config.checkpoint_every_s`` seconds, at the
        end, and on preemption. A checkpoint written under a different config or integer seed
        is refused (``ValueError``). With a path, SIGTERM and SIGUSR1 are caught during
        training (see :func:`rnndyn.training.preemption.catch_preemption`).
    log : logging.Logger
        Receives one INFO line per epoch (loss, validation loss, steps/s, elapsed, time left).
    max_epochs_this_run : int, optional
        Stop after this many epochs in this call (status ``"incomplete"``, checkpoint written).
    callback : callable(epoch, record), optional
        Called after every epoch with the 1-based epoch and its history record.

    Returns
    -------
    TrainResult

    Raises
    ------
    TrainingInterrupted
        After a preemption signal, at the end of the epoch during which it arrived, once the
        checkpoint is written. Keep epochs shorter than the scheduler's grace time.

    Notes
    -----
    Divergence (a non-finite training loss, gradient norm or validation loss) is detected when
    the epoch's metrics are read, once per epoch, so later steps of that epoch may already have
    run on non-finite values; the weights are therefore restored to a copy taken at the start of
    the epoch.
    """
    config = TrainConfig.coerce(config)
    device = select_device(device) if isinstance(device, str) else device
    model.to(device)
    data = TrainingData.on_device(model, train_data, val_data, config, device)
    state = TrainingState.start(model, config, seed)
    path = None if checkpoint_path is None else Path(checkpoint_path)
    if path is not None and path.exists():
        restore_checkpoint(path, state, config)
        log.info("resumed from %s after epoch %d (status %s)", path, state.epoch, state.status)
    progress = ProgressLog(log, config, state.epoch)
    checkpoints = Checkpointer(path, config)
    with preemption_guard(path is not None) as preemption:
        while state.status == "running":
            record, last_finite = run_epoch(state, data, config)
            progress.epoch(state, record)
            if callback is not None:
                callback(state.epoch, record)
            _settle(state, record, last_finite, data.has_validation, config, log)
            if state.status != "running":
                checkpoints.save(state)
                break
            if preemption.signal_number is not None:
                checkpoints.save(state)
                raise TrainingInterrupted(preemption.signal_number, state.epoch, path)
            checkpoints.periodic(state)
            if max_epochs_this_run is not None and (
                progress.epochs_this_run(state) >= max_epochs_this_run
            ):
                checkpoints.save(state)
                break
    return TrainResult.of(state, config, device)


def _settle(
    state: TrainingState,
    record: dict[str, float],
    last_finite: dict[str, torch.Tensor],
    validated: bool,
    config: TrainConfig,
    log: logging.Logger,
) -> None:
    """Status after the epoch just run: ``"diverged"`` (weights reset to ``last_finite``) if a
    loss or the gradient norm was not finite, ``"completed"`` after the last epoch."""
    finite = math.isfinite(record["loss"]) and math.isfinite(record["grad_norm"])
    if not finite or (validated and not math.isfinite(record["val_loss"])):
        state.diverge(last_finite)
        message = "diverged in epoch %d: weights reset to those after epoch %d"
        log.warning(message, state.epoch, state.epoch - 1)
    elif state.epoch == config.epochs:
        state.status = "completed"
