"""Checkpoints of a training run: format, atomic writes, validated resumption, and when to write.

A checkpoint is one ``torch.save`` file of a dict (format :data:`CHECKPOINT_FORMAT`) with keys
``format``, ``config`` (:meth:`TrainConfig.to_dict`), ``seed`` (the integer seed or ``None``),
``status``, ``epoch``, ``diverged_epoch``, ``model``, ``optimizer`` and ``scheduler`` (state
dicts; ``scheduler`` ``None`` without a schedule), ``generator`` (the minibatch-order
generator's state) and ``history`` (dict of lists); with adaptive generalized teacher forcing
also ``gtf_alpha`` (the current alpha, a tensor). It holds only tensors and plain Python values,
so it loads with ``weights_only=True``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from rnndyn.training.config import TrainConfig
from rnndyn.training.state import TrainingState

CHECKPOINT_FORMAT = 1


def atomic_save(path: Path, payload: dict[str, Any]) -> None:
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


def checkpoint_payload(state: TrainingState, config: TrainConfig) -> dict[str, Any]:
    """The checkpoint dict of ``state`` (module docstring)."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": config.to_dict(),
        "seed": state.seed,
        "status": state.status,
        "epoch": state.epoch,
        "diverged_epoch": state.diverged_epoch,
        "model": state.model.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "scheduler": None if state.scheduler is None else state.scheduler.state_dict(),
        "generator": state.generator.get_state(),
        "history": state.history,
    }
    if state.forcing is not None:
        payload["gtf_alpha"] = state.forcing.state_dict()
    return payload


def restore_checkpoint(path: Path, state: TrainingState, config: TrainConfig) -> None:
    """Load the checkpoint at ``path`` into ``state`` (in place).

    Raises
    ------
    ValueError
        If the checkpoint was written under a different config, or with an integer seed other
        than ``state.seed``.
    """
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if checkpoint["config"] != config.to_dict():
        raise ValueError(f"checkpoint {path} was written under a different config")
    if state.seed is not None and checkpoint["seed"] not in (None, state.seed):
        raise ValueError(f"checkpoint {path} was written with seed {checkpoint['seed']}")
    state.model.load_state_dict(checkpoint["model"])
    state.optimizer.load_state_dict(checkpoint["optimizer"])
    if state.scheduler is not None:
        state.scheduler.load_state_dict(checkpoint["scheduler"])
    state.generator.set_state(checkpoint["generator"])
    state.history = checkpoint["history"]
    state.epoch, state.status = checkpoint["epoch"], checkpoint["status"]
    state.diverged_epoch = checkpoint["diverged_epoch"]
    if state.forcing is not None:
        state.forcing.load_state_dict(checkpoint["gtf_alpha"])


class Checkpointer:
    """Writes the checkpoints of one run, at the times :class:`TrainConfig` asks for.

    Parameters
    ----------
    path : Path or None
        Checkpoint file; ``None`` writes nothing.
    config : TrainConfig
        ``checkpoint_every`` (epochs) and ``checkpoint_every_s`` (seconds since the last
        periodic checkpoint, or since the start of this run) set the periodic checkpoints.
    """

    def __init__(self, path: Path | None, config: TrainConfig) -> None:
        self.path = path
        self.config = config
        self.last = time.perf_counter()

    def save(self, state: TrainingState) -> None:
        """Write ``state`` now (nothing without a path)."""
        if self.path is not None:
            atomic_save(self.path, checkpoint_payload(state, self.config))

    def periodic(self, state: TrainingState) -> None:
        """Write ``state`` if a checkpoint is due at the end of epoch ``state.epoch``."""
        now = time.perf_counter()
        every, every_s = self.config.checkpoint_every, self.config.checkpoint_every_s
        if (every is not None and state.epoch % every == 0) or (
            every_s is not None and now - self.last >= every_s
        ):
            self.save(state)
            self.last = now
