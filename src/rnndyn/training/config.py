"""Hyper-parameters of one training run (:class:`TrainConfig`) and the names they may take."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

OPTIMIZERS = ("adam", "radam")
SCHEDULES = ("constant", "cosine", "step")
LOSSES = ("mse", "cross_entropy")
MODES = ("teacher", "sparse_tf", "rollout", "gtf")
ADAPTIVE = "adaptive"


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
    mode : {"teacher", "sparse_tf", "rollout", "gtf"}
        Objective (see :mod:`rnndyn.training.objectives`). ``"sparse_tf"``, ``"rollout"`` and
        ``"gtf"`` feed outputs back as inputs: they need ``loss="mse"``,
        ``output_size == input_size`` and targets that are the inputs shifted by one step
        (``targets[:, t] == inputs[:, t + 1]``).
    tf_interval : int
        Sparse teacher forcing interval tau in steps (about one Lyapunov time; 1 = teacher
        forcing; Mikhaeil, Monfared & Durstewitz 2022).
    rollout_horizon : int
        Closed-loop steps scored in ``"rollout"`` mode (at most the sequence length).
    gtf_alpha : float in [0, 1] or "adaptive"
        Generalized teacher forcing's alpha in ``"gtf"`` mode (Hess et al. 2023): the input is
        ``alpha * data + (1 - alpha) * prediction``; 1 is teacher forcing, 0 a closed-loop run.
        ``"adaptive"``: alpha follows the growth of the closed-loop Jacobians
        (:mod:`rnndyn.training.forcing`).
    gtf_alpha_start : float in [0, 1]
        Adaptive alpha before its first estimate (the authors' code starts at 1).
    gtf_alpha_every : int
        Adaptive alpha is re-estimated before every ``gtf_alpha_every``-th optimiser step
        (counted over the whole run; the authors' code: every 5th batch).
    gtf_alpha_decay : float in [0, 1]
        Annealing factor gamma: an estimate above alpha replaces it, one below it moves alpha
        to ``gamma * alpha + (1 - gamma) * estimate`` (authors' code: 0.999).
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
    gtf_alpha: float | str = ADAPTIVE
    gtf_alpha_start: float = 1.0
    gtf_alpha_every: int = 5
    gtf_alpha_decay: float = 0.999
    checkpoint_every: int | None = None
    checkpoint_every_s: float | None = 300.0

    def __post_init__(self) -> None:
        problems = []
        if self.epochs < 1 or self.batch_size < 1 or self.step_epochs < 1:
            problems.append("epochs, batch_size and step_epochs must be >= 1")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {sorted(OPTIMIZERS)}")
        if not self.lr > 0:
            problems.append("lr must be > 0")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {SCHEDULES}")
        if self.loss not in LOSSES:
            problems.append(f"loss must be one of {LOSSES}")
        if self.mode not in MODES:
            problems.append(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.mode != "teacher" and self.loss != "mse":
            problems.append(f"mode {self.mode!r} feeds outputs back as inputs: it needs loss 'mse'")
        for name in ("tf_interval", "rollout_horizon", "gtf_alpha_every"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                problems.append(f"{name} must be an integer >= 1, got {value!r}")
        if self.gtf_alpha != ADAPTIVE and not _in_unit_interval(self.gtf_alpha):
            problems.append(
                f"gtf_alpha must lie in [0, 1] or be {ADAPTIVE!r}, got {self.gtf_alpha!r}"
            )
        for name in ("gtf_alpha_start", "gtf_alpha_decay"):
            if not _in_unit_interval(getattr(self, name)):
                problems.append(f"{name} must lie in [0, 1], got {getattr(self, name)!r}")
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
            if name != "gtf_alpha"
        }
        if "gtf_alpha" in values:
            coerced["gtf_alpha"] = _alpha(values["gtf_alpha"])
        return cls(**coerced)

    @classmethod
    def coerce(cls, config: TrainConfig | Mapping[str, Any]) -> TrainConfig:
        """``config`` itself if it is a :class:`TrainConfig`, else :meth:`from_dict` of it."""
        return config if isinstance(config, cls) else cls.from_dict(config)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dict (round-trips through :meth:`from_dict`)."""
        return dataclasses.asdict(self)

    @property
    def adaptive_alpha(self) -> bool:
        """Whether this is adaptive generalized teacher forcing (mode ``"gtf"``, alpha adaptive)."""
        return self.mode == "gtf" and self.gtf_alpha == ADAPTIVE


def _alpha(value: Any) -> Any:
    """``gtf_alpha`` from a mapping: a number (or a numeric string, as YAML 1.1 may read
    ``1e-1``) as a float; any other value unchanged, for the validation to accept
    (``"adaptive"``) or name."""
    if isinstance(value, bool):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _in_unit_interval(value: Any) -> bool:
    """A real number in [0, 1] (NaN, strings and booleans are not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0
