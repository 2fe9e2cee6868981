"""Everything a training run carries from epoch to epoch (and a checkpoint stores).

:class:`TrainingState` bundles the model with its optimiser, learning-rate scheduler, the
generator of the minibatch order, the history and the progress (epoch, status).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from rnndyn.models import RecurrentModel
from rnndyn.training.config import TrainConfig
from rnndyn.training.forcing import AdaptiveAlpha
from rnndyn.training.history import History, append_record, empty_history

_OPTIMIZERS = {"adam": torch.optim.Adam, "radam": torch.optim.RAdam}


def make_optimizer(model: RecurrentModel, config: TrainConfig) -> torch.optim.Optimizer:
    """``config.optimizer`` over the trainable parameters of ``model``, with ``config.lr`` and
    ``config.weight_decay``."""
    return _OPTIMIZERS[config.optimizer](
        [p for p in model.parameters() if p.requires_grad],
        lr=config.lr,
        weight_decay=config.weight_decay,
    )


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Epoch-wise learning-rate schedule of ``config.schedule`` (``None`` for ``"constant"``).

    ``"cosine"`` anneals from ``lr`` to ``min_lr`` over ``epochs``; ``"step"`` multiplies the
    rate by ``step_gamma`` every ``step_epochs`` epochs.
    """
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=config.epochs, eta_min=config.min_lr
        )
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=config.step_epochs, gamma=config.step_gamma
        )
    return None


@dataclass
class TrainingState:
    """One training run's mutable state.

    Attributes
    ----------
    model : RecurrentModel
    optimizer : torch.optim.Optimizer
    scheduler : LRScheduler or None
    generator : torch.Generator
        Source of the minibatch order, the only randomness of training.
    seed : int or None
        The integer seed the generator came from (``None`` when a generator was given).
    history : dict of str to list of float
        See :mod:`rnndyn.training.history`.
    epoch : int
        Epochs completed, earlier (resumed) runs included.
    status : {"running", "completed", "diverged"}
    diverged_epoch : int or None
        1-based epoch whose loss or gradient became non-finite.
    forcing : AdaptiveAlpha or None
        The alpha of adaptive generalized teacher forcing; ``None`` in every other mode.
    """

    model: RecurrentModel
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    generator: torch.Generator
    seed: int | None
    history: History = field(default_factory=empty_history)
    epoch: int = 0
    status: str = "running"
    diverged_epoch: int | None = None
    forcing: AdaptiveAlpha | None = None

    @classmethod
    def start(
        cls, model: RecurrentModel, config: TrainConfig, seed: int | torch.Generator
    ) -> TrainingState:
        """Fresh state: a new optimiser and scheduler; a generator seeded with ``seed`` (or
        ``seed`` itself when it is a generator)."""
        generator = (
            seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(seed)
        )
        optimizer = make_optimizer(model, config)
        scheduler = make_scheduler(optimizer, config)
        device = next(model.parameters()).device
        forcing = AdaptiveAlpha(config, device) if config.adaptive_alpha else None
        return cls(
            model,
            optimizer,
            scheduler,
            generator,
            seed if isinstance(seed, int) else None,
            history=empty_history(config),
            forcing=forcing,
        )

    @property
    def lr(self) -> float:
        """Learning rate of the coming optimiser steps."""
        return self.optimizer.param_groups[0]["lr"]

    def snapshot(self) -> dict[str, torch.Tensor]:
        """Copy of the model's weights (to restore after a divergence)."""
        return {key: value.detach().clone() for key, value in self.model.state_dict().items()}

    def record(self, record: dict[str, float]) -> None:
        """Count one more epoch, with its history ``record``."""
        self.epoch += 1
        append_record(self.history, record)

    def diverge(self, last_finite: dict[str, torch.Tensor]) -> None:
        """Mark the current epoch as diverged and restore the weights ``last_finite``."""
        self.model.load_state_dict(last_finite)
        self.status, self.diverged_epoch = "diverged", self.epoch
