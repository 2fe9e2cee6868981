"""One trainer for every experiment of the study (Lorenz prediction, Kalman filtering, flip-flop,
copy task).

:func:`train` fits a :class:`~rnndyn.models.RecurrentModel` to in-memory sequences with Adam or
RAdam, an epoch-wise learning-rate schedule and gradient-norm clipping, under one of three
objectives:

- ``"teacher"``: one-step-ahead prediction, the model driven by the data;
- ``"sparse_tf"``: sparse teacher forcing (Mikhaeil, Monfared & Durstewitz 2022, NeurIPS, "On the
  difficulty of learning chaotic dynamics with RNNs"): the model runs on its own outputs and the
  data are re-injected as input every ``tf_interval`` steps (interval 1 is teacher forcing);
- ``"rollout"``: a teacher-forced warm-up, then a closed-loop prediction over
  ``rollout_horizon`` steps, on which the loss is taken.

It is reproducible (all randomness from one ``torch.Generator``), device-agnostic (no host
round trip inside an epoch: metrics accumulate on the device and are read once per epoch),
resumable (atomic checkpoints; a resumed CPU run is bitwise identical to an uninterrupted one),
preemptible (SIGTERM / SIGUSR1 -> checkpoint -> :class:`TrainingInterrupted`) and honest about
divergence (a non-finite loss or gradient ends the run with status ``"diverged"``; it is never
raised).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import math
import os
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr
from torch.nn.utils import parametrize

from rnndyn.devices import select_device
from rnndyn.models import RecurrentModel, closed_loop
from rnndyn.store import WALL_CLOCK_ATTR

logger = logging.getLogger(__name__)

PREEMPTION_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)
"""SIGTERM: sent by SLURM at preemption or time-out (KillWait seconds before SIGKILL); SIGUSR1: an
early warning a job may ask for with ``--signal=USR1@<s>``. Under snakemake-executor-plugin-slurm
2.8 that warning also reaches the plugin's own snakemake process in the job step, which dies of it,
so profiles/slurm relies on SIGTERM plus periodic checkpoints instead."""

EXIT_PREEMPTED = 75
"""Exit status for a preempted run (``EX_TEMPFAIL`` of sysexits.h: retry later)."""

HISTORY_FIELDS = ("loss", "val_loss", "grad_norm", "lr", "steps_per_s", "seconds")

_OPTIMIZERS = {"adam": torch.optim.Adam, "radam": torch.optim.RAdam}
_SCHEDULES = ("constant", "cosine", "step")
_LOSSES = ("mse", "cross_entropy")
_MODES = ("teacher", "sparse_tf", "rollout")
_CHECKPOINT_FORMAT = 1


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run (build it from a config dict with :meth:`from_dict`).

    Attributes
    ----------
    epochs : int
        Passes over the training set.
    batch_size : int
        Sequences per optimiser step (the last batch of an epoch may be smaller).
    optimizer : {"adam", "radam"}
    lr : float
        Initial learning rate.
    weight_decay : float
        L2 penalty of the optimiser.
    schedule : {"constant", "cosine", "step"}
        Learning rate per epoch: constant; cosine annealing from ``lr`` to ``min_lr`` over
        ``epochs``; or multiplied by ``step_gamma`` every ``step_epochs`` epochs.
    min_lr, step_epochs, step_gamma
        Schedule parameters.
    grad_clip : float or None
        Maximum L2 norm of the full gradient; ``None`` disables clipping.
    loss : {"mse", "cross_entropy"}
        ``"cross_entropy"`` reads class logits on the model output's last dim; targets are class
        indices ``(N, T)`` (``-100`` ignored) or class probabilities ``(N, T, C)``.
    mode : {"teacher", "sparse_tf", "rollout"}
        Objective (module docstring). ``"sparse_tf"`` and ``"rollout"`` feed outputs back as
        inputs: they need ``loss="mse"``, ``output_size == input_size`` and targets that are the
        inputs shifted by one step (``targets[:, t] == inputs[:, t + 1]``).
    tf_interval : int
        Sparse teacher forcing interval tau in steps (about one Lyapunov time; 1 = teacher
        forcing).
    rollout_horizon : int
        Closed-loop steps scored in ``"rollout"`` mode (at most the sequence length).
    checkpoint_every : int or None
        Write a checkpoint every this many epochs.
    checkpoint_every_s : float or None
        Write a checkpoint when this many seconds have passed since the last one (checked at
        the end of each epoch). The default, five minutes, bounds the work a job killed without
        warning loses; a preemption signal writes one at once.
    """

    epochs: int
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "constant"
    min_lr: float = 0.0
    step_epochs: int = 10
    step_gamma: float = 0.5
    grad_clip: float | None = None
    loss: str = "mse"
    mode: str = "teacher"
    tf_interval: int = 1
    rollout_horizon: int = 1
    checkpoint_every: int | None = None
    checkpoint_every_s: float | None = 300.0

    def __post_init__(self) -> None:
        problems = []
        if self.epochs < 1 or self.batch_size < 1 or self.step_epochs < 1:
            problems.append("epochs, batch_size and step_epochs must be >= 1")
        if self.optimizer not in _OPTIMIZERS:
            problems.append(f"optimizer must be one of {sorted(_OPTIMIZERS)}")
        if not self.lr > 0:
            problems.append("lr must be > 0")
        if self.schedule not in _SCHEDULES:
            problems.append(f"schedule must be one of {_SCHEDULES}")
        if self.loss not in _LOSSES:
            problems.append(f"loss must be one of {_LOSSES}")
        if self.mode not in _MODES:
            problems.append(f"mode must be one of {_MODES}")
        if self.mode != "teacher" and self.loss != "mse":
            problems.append(f"mode {self.mode!r} feeds outputs back as inputs: it needs loss 'mse'")
        if self.tf_interval < 1 or self.rollout_horizon < 1:
            problems.append("tf_interval and rollout_horizon must be >= 1")
        if self.grad_clip is not None and not self.grad_clip > 0:
            problems.append("grad_clip must be > 0 or None")
        if self.checkpoint_every is not None and self.checkpoint_every < 1:
            problems.append("checkpoint_every must be >= 1 or None")
        if self.checkpoint_every_s is not None and self.checkpoint_every_s < 0:
            problems.append("checkpoint_every_s must be >= 0 or None")
        if problems:
            raise ValueError("invalid TrainConfig: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainConfig:
        """Build from a plain mapping; unknown keys are an error.

        Float fields accept strings, because YAML 1.1 reads ``1e-3`` (no dot) as a string.
        """
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(values) - set(fields)
        if unknown:
            raise ValueError(f"unknown TrainConfig keys {sorted(unknown)}; known: {sorted(fields)}")
        coerced = {
            name: float(value) if "float" in str(fields[name].type) and value is not None else value
            for name, value in values.items()
        }
        return cls(**coerced)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dict (round-trips through :meth:`from_dict`)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train`.

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


class TrainingInterrupted(SystemExit):
    """Raised after a preemption signal, once the checkpoint is written.

    A ``SystemExit``: left uncaught, it ends the job's process with status ``EXIT_PREEMPTED``, so
    the scheduler requeues the job, and the next :func:`train` call with the same checkpoint path
    resumes. A job script needs no handler for it.
    """

    exit_code = EXIT_PREEMPTED

    def __init__(self, signal_number: int, epoch: int, checkpoint_path: Path) -> None:
        super().__init__(EXIT_PREEMPTED)
        self.signal_number = signal_number
        self.epoch = epoch
        self.checkpoint_path = checkpoint_path

    def __str__(self) -> str:
        return (
            f"{signal.Signals(self.signal_number).name} received: checkpoint after epoch "
            f"{self.epoch} written to {self.checkpoint_path}"
        )


class PreemptionFlag:
    """Signal handler that records the signal instead of terminating the process."""

    def __init__(self) -> None:
        self.signal_number: int | None = None

    def __call__(self, signal_number: int, frame: object) -> None:
        self.signal_number = signal_number


@contextlib.contextmanager
def catch_preemption(signals: tuple[int, ...] = PREEMPTION_SIGNALS) -> Iterator[PreemptionFlag]:
    """While active, ``signals`` set the yielded flag instead of ending the process.

    Python can install signal handlers only in the main thread; elsewhere the flag never rises
    (a warning is logged) and the signals keep their previous behaviour.
    """
    flag = PreemptionFlag()
    if threading.current_thread() is not threading.main_thread():
        logger.warning("not in the main thread: preemption signals cannot be caught")
        yield flag
        return
    previous = {number: signal.signal(number, flag) for number in signals}
    try:
        yield flag
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


def sparse_teacher_forcing(
    model: RecurrentModel, inputs: torch.Tensor, interval: int
) -> torch.Tensor:
    """Outputs of a run on the model's own predictions with the data re-injected every
    ``interval`` steps (Mikhaeil, Monfared & Durstewitz 2022).

    The input at step t is ``inputs[:, t]`` when ``t % interval == 0`` and the previous output
    otherwise; the state is carried throughout. ``interval = 1`` is teacher forcing.

    Parameters
    ----------
    model : RecurrentModel
        With ``output_size == input_size``.
    inputs : Tensor, shape (B, T, input_size)
    interval : int
        tau >= 1, in steps.

    Returns
    -------
    Tensor, shape (B, T, output_size)
    """
    state = model.initial_state(inputs.shape[0])
    outputs: list[torch.Tensor] = []
    with parametrize.cached():
        for t in range(inputs.shape[1]):
            x_t = inputs[:, t] if t % interval == 0 else outputs[-1]
            state = model.step(x_t, state)
            outputs.append(model.readout(state))
    return torch.stack(outputs, dim=1)


def _loss(config: TrainConfig, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    if config.loss == "mse":
        return F.mse_loss(outputs, targets)
    classes = outputs.shape[-1]
    logits = outputs.reshape(-1, classes)
    if targets.is_floating_point():
        return F.cross_entropy(logits, targets.reshape(-1, classes))
    return F.cross_entropy(logits, targets.reshape(-1))


def objective(
    model: RecurrentModel, inputs: torch.Tensor, targets: torch.Tensor, config: TrainConfig
) -> torch.Tensor:
    """Mean loss of one batch under ``config.mode`` and ``config.loss`` (scalar tensor).

    Parameters
    ----------
    model : RecurrentModel
    inputs : Tensor, shape (B, T, input_size)
    targets : Tensor, shape (B, T, output_size), or (B, T) class indices
        ``"rollout"`` scores only the last ``rollout_horizon`` steps, predicted in closed loop
        after a teacher-forced warm-up on ``inputs[:, :T - rollout_horizon + 1]``.
    config : TrainConfig
    """
    # One cached evaluation of any parametrised weight per batch, never across optimiser steps.
    with parametrize.cached():
        if config.mode == "teacher":
            return _loss(config, model.outputs(inputs), targets)
        if config.mode == "sparse_tf":
            return _loss(config, sparse_teacher_forcing(model, inputs, config.tf_interval), targets)
        horizon, length = config.rollout_horizon, inputs.shape[1]
        predictions, _ = closed_loop(model, inputs[:, : length - horizon + 1], horizon)
        return _loss(config, predictions, targets[:, length - horizon :])


def _evaluate(
    model: RecurrentModel, inputs: torch.Tensor, targets: torch.Tensor, config: TrainConfig
) -> torch.Tensor:
    """Sequence-weighted mean loss over a dataset, in batches, without gradients (on device)."""
    model.eval()
    total = inputs.new_zeros((), dtype=torch.float64)
    with torch.no_grad():
        for start in range(0, inputs.shape[0], config.batch_size):
            stop = min(start + config.batch_size, inputs.shape[0])
            loss = objective(model, inputs[start:stop], targets[start:stop], config)
            total += loss.double() * (stop - start)
    return total / inputs.shape[0]


def _train_epoch(
    model: RecurrentModel,
    optimizer: torch.optim.Optimizer,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    order: torch.Tensor,
    config: TrainConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass in minibatches of ``order``; returns the sequence-weighted mean loss and the
    mean gradient norm before clipping, as float64 device tensors (no host synchronisation)."""
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    loss_sum = torch.zeros((), dtype=torch.float64, device=inputs.device)
    norm_sum = torch.zeros((), dtype=torch.float64, device=inputs.device)
    batches = order.split(config.batch_size)
    for batch in batches:
        optimizer.zero_grad(set_to_none=True)
        loss = objective(model, inputs[batch], targets[batch], config)
        loss.backward()
        if config.grad_clip is None:
            norm = torch.nn.utils.get_total_norm([p.grad for p in parameters if p.grad is not None])
        else:
            norm = torch.nn.utils.clip_grad_norm_(parameters, config.grad_clip)
        optimizer.step()
        loss_sum += loss.detach().double() * batch.shape[0]
        norm_sum += norm.double()
    return loss_sum / order.shape[0], norm_sum / len(batches)


def _check_data(
    model: RecurrentModel, inputs: torch.Tensor, targets: torch.Tensor, config: TrainConfig
) -> None:
    if inputs.ndim != 3 or inputs.shape[-1] != model.input_size:
        raise ValueError(f"inputs must be (N, T, {model.input_size}), got {tuple(inputs.shape)}")
    n, length = inputs.shape[:2]
    if config.loss == "mse" and targets.shape != (n, length, model.output_size):
        raise ValueError(
            f"mse targets must be (N, T, {model.output_size}) = {(n, length, model.output_size)}, "
            f"got {tuple(targets.shape)}"
        )
    if config.loss == "cross_entropy" and targets.shape[:2] != (n, length):
        raise ValueError(f"cross-entropy targets must start with (N, T) = {(n, length)}")
    if config.mode != "teacher" and model.input_size != model.output_size:
        raise ValueError(f"mode {config.mode!r} needs output_size == input_size")
    if config.mode == "rollout" and config.rollout_horizon > length:
        raise ValueError(
            f"rollout_horizon {config.rollout_horizon} exceeds the sequence length {length}"
        )


def _make_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig
) -> torch.optim.lr_scheduler.LRScheduler | None:
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=config.epochs, eta_min=config.min_lr
        )
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=config.step_epochs, gamma=config.step_gamma
        )
    return None


def _save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """``torch.save`` to a temporary file in the same folder, fsync, then ``os.replace``: a
    killed job leaves either the previous checkpoint or the new one, never a torn file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _history_dataset(
    history: Mapping[str, list[float]], config: TrainConfig, status: str, device: torch.device
) -> xr.Dataset:
    loss_units = "nat" if config.loss == "cross_entropy" else "(target units)^2"
    attrs = {
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
    }
    data = {
        name: ("epoch", np.asarray(history[name], dtype=np.float64), attrs[name])
        for name in HISTORY_FIELDS
    }
    epochs = np.arange(1, len(history["loss"]) + 1)
    epoch_attrs = {"long_name": "epoch (1-based)", "units": "1"}
    return xr.Dataset(
        data,
        coords={"epoch": ("epoch", epochs, epoch_attrs)},
        attrs={"status": status, "device": str(device), "mode": config.mode, "loss": config.loss},
    )


def _duration(seconds: float) -> str:
    return str(datetime.timedelta(seconds=round(seconds))) if math.isfinite(seconds) else "?"


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
        See :func:`select_device`.
    checkpoint_path : path, optional
        Checkpoint file (model, optimiser, scheduler, generator state, epoch, history, config),
        written atomically every ``config.checkpoint_every`` epochs and/or
        ``config.checkpoint_every_s`` seconds, at the end, and on preemption. A checkpoint
        written under a different config or integer seed is refused (``ValueError``). With a
        path, SIGTERM and
        SIGUSR1 are caught during training (see :func:`catch_preemption`).
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
    config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
    device = select_device(device) if isinstance(device, str) else device
    model.to(device)
    inputs, targets = (tensor.to(device) for tensor in train_data)
    _check_data(model, inputs, targets, config)
    if val_data is not None:
        val_inputs, val_targets = (tensor.to(device) for tensor in val_data)
        _check_data(model, val_inputs, val_targets, config)
    generator = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(seed)
    optimizer = _OPTIMIZERS[config.optimizer](
        [p for p in model.parameters() if p.requires_grad],
        lr=config.lr,
        weight_decay=config.weight_decay,
    )
    scheduler = _make_scheduler(optimizer, config)
    path = None if checkpoint_path is None else Path(checkpoint_path)

    history: dict[str, list[float]] = {name: [] for name in HISTORY_FIELDS}
    start_epoch, status, diverged_epoch = 0, "running", None
    if path is not None and path.exists():
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        if checkpoint["config"] != config.to_dict():
            raise ValueError(f"checkpoint {path} was written under a different config")
        if isinstance(seed, int) and checkpoint["seed"] not in (None, seed):
            raise ValueError(f"checkpoint {path} was written with seed {checkpoint['seed']}")
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(checkpoint["scheduler"])
        generator.set_state(checkpoint["generator"])
        history = checkpoint["history"]
        start_epoch, status = checkpoint["epoch"], checkpoint["status"]
        diverged_epoch = checkpoint["diverged_epoch"]
        log.info("resumed from %s after epoch %d (status %s)", path, start_epoch, status)

    def save(epoch: int) -> None:
        if path is None:
            return
        _save_checkpoint(
            path,
            {
                "format": _CHECKPOINT_FORMAT,
                "config": config.to_dict(),
                "seed": seed if isinstance(seed, int) else None,
                "status": status,
                "epoch": epoch,
                "diverged_epoch": diverged_epoch,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": None if scheduler is None else scheduler.state_dict(),
                "generator": generator.get_state(),
                "history": history,
            },
        )

    n_sequences = inputs.shape[0]
    steps_per_epoch = math.ceil(n_sequences / config.batch_size)
    epoch = start_epoch
    run_started = last_checkpoint = time.perf_counter()
    guard = catch_preemption() if path is not None else contextlib.nullcontext(PreemptionFlag())
    with guard as preemption:
        while status == "running":
            epoch_started = time.perf_counter()
            last_finite = {key: value.detach().clone() for key, value in model.state_dict().items()}
            lr = optimizer.param_groups[0]["lr"]
            order = torch.randperm(n_sequences, generator=generator).to(device)
            model.train()
            train_loss, grad_norm = _train_epoch(model, optimizer, inputs, targets, order, config)
            if scheduler is not None:
                scheduler.step()
            val_loss = (
                _evaluate(model, val_inputs, val_targets, config)
                if val_data is not None
                else torch.full((), math.nan, dtype=torch.float64, device=device)
            )
            # The one host synchronisation of the epoch.
            train_loss, grad_norm, val = torch.stack([train_loss, grad_norm, val_loss]).tolist()
            seconds = time.perf_counter() - epoch_started
            epoch += 1
            record = {
                "loss": train_loss,
                "val_loss": val,
                "grad_norm": grad_norm,
                "lr": lr,
                "steps_per_s": steps_per_epoch / seconds,
                "seconds": seconds,
            }
            for name in HISTORY_FIELDS:
                history[name].append(record[name])
            epochs_this_run = epoch - start_epoch
            left = (time.perf_counter() - run_started) / epochs_this_run * (config.epochs - epoch)
            log.info(
                "epoch %d/%d  loss %.4e  val_loss %.4e  %.1f steps/s  elapsed %s  left %s",
                epoch,
                config.epochs,
                train_loss,
                val,
                record["steps_per_s"],
                _duration(sum(history["seconds"])),
                _duration(left),
            )
            if callback is not None:
                callback(epoch, record)

            finite = math.isfinite(train_loss) and math.isfinite(grad_norm)
            if not finite or (val_data is not None and not math.isfinite(val)):
                model.load_state_dict(last_finite)
                status, diverged_epoch = "diverged", epoch
                message = "diverged in epoch %d: weights reset to those after epoch %d"
                log.warning(message, epoch, epoch - 1)
            elif epoch == config.epochs:
                status = "completed"
            if status != "running":
                save(epoch)
                break
            if preemption.signal_number is not None:
                save(epoch)
                raise TrainingInterrupted(preemption.signal_number, epoch, path)
            now = time.perf_counter()
            every = config.checkpoint_every
            every_s = config.checkpoint_every_s
            if (every is not None and epoch % every == 0) or (
                every_s is not None and now - last_checkpoint >= every_s
            ):
                save(epoch)
                last_checkpoint = now
            if max_epochs_this_run is not None and epochs_this_run >= max_epochs_this_run:
                save(epoch)
                break

    status = "incomplete" if status == "running" else status
    return TrainResult(
        status=status,
        epochs_run=epoch,
        diverged_epoch=diverged_epoch,
        final_loss=history["loss"][-1] if history["loss"] else math.nan,
        final_val_loss=history["val_loss"][-1] if history["val_loss"] else math.nan,
        history=_history_dataset(history, config, status, device),
        device=str(device),
    )
