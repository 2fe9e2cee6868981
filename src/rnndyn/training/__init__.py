"""One trainer for every experiment of the study (Lorenz prediction, Kalman filtering, flip-flop,
copy task).

:func:`train` fits a :class:`~rnndyn.models.RecurrentModel` to in-memory sequences with Adam or
RAdam, an epoch-wise learning-rate schedule and gradient-norm clipping, under one of four
objectives (:mod:`rnndyn.training.objectives`):

- ``"teacher"``: one-step-ahead prediction, the model driven by the data;
- ``"sparse_tf"``: sparse teacher forcing (Mikhaeil, Monfared & Durstewitz 2022, NeurIPS, "On the
  difficulty of learning chaotic dynamics with RNNs"): the model runs on its own outputs and the
  data are re-injected as input every ``tf_interval`` steps (interval 1 is teacher forcing);
- ``"rollout"``: a teacher-forced warm-up, then a closed-loop prediction over
  ``rollout_horizon`` steps, on which the loss is taken;
- ``"gtf"``: generalized teacher forcing (Hess, Monfared, Brenner & Durstewitz 2023, ICML): each
  input interpolates data and prediction with a fixed alpha, or with the adaptive alpha of
  :mod:`rnndyn.training.forcing`.

It is reproducible (all randomness from one ``torch.Generator``), device-agnostic (no host
round trip inside an epoch: metrics accumulate on the device and are read once per epoch),
resumable (atomic checkpoints; a resumed CPU run is bitwise identical to an uninterrupted one),
preemptible (SIGTERM / SIGUSR1 -> checkpoint -> :class:`TrainingInterrupted`) and honest about
divergence (a non-finite loss or gradient ends the run with status ``"diverged"``; it is never
raised).

Modules
-------
config
    :class:`TrainConfig`, the hyper-parameters.
objectives
    The loss of a batch under each mode (:func:`objective`, :func:`sparse_teacher_forcing`,
    :func:`generalized_teacher_forcing`).
forcing
    Adaptive alpha of generalized teacher forcing (Jacobian growth, annealing).
data
    Shape checks; the sequences on the device.
state
    Model, optimiser, scheduler, generator, history and progress of a run.
epoch
    One epoch: minibatch steps, validation, the epoch's record.
history
    The per-epoch history and its dataset form (:data:`HISTORY_FIELDS`).
checkpoint
    Checkpoint format, atomic writes, validated resumption, periodic checkpoints.
preemption
    Scheduler signals, :class:`TrainingInterrupted`, :data:`EXIT_PREEMPTED`.
progress
    The per-epoch log line.
result
    :class:`TrainResult`.
loop
    :func:`train`.
"""

from rnndyn.training.config import TrainConfig
from rnndyn.training.history import HISTORY_FIELDS
from rnndyn.training.loop import train
from rnndyn.training.objectives import (
    generalized_teacher_forcing,
    objective,
    sparse_teacher_forcing,
)
from rnndyn.training.preemption import EXIT_PREEMPTED, TrainingInterrupted
from rnndyn.training.result import TrainResult

__all__ = [
    "EXIT_PREEMPTED",
    "HISTORY_FIELDS",
    "TrainConfig",
    "TrainResult",
    "TrainingInterrupted",
    "generalized_teacher_forcing",
    "objective",
    "sparse_teacher_forcing",
    "train",
]
