"""One log line per epoch: losses, rate, time spent and an estimate of the time left."""

from __future__ import annotations

import datetime
import logging
import math
import time

from rnndyn.training.config import TrainConfig
from rnndyn.training.state import TrainingState


def duration(seconds: float) -> str:
    """``H:MM:SS`` of ``seconds`` rounded to the second; ``"?"`` when not finite."""
    return str(datetime.timedelta(seconds=round(seconds))) if math.isfinite(seconds) else "?"


class ProgressLog:
    """Logs the epochs of one call of :func:`~rnndyn.training.train`.

    Parameters
    ----------
    log : logging.Logger
        Receives one INFO line per epoch.
    config : TrainConfig
        ``epochs``: the total, for the estimate of the time left.
    start_epoch : int
        Epochs completed before this call (resumed from a checkpoint).
    """

    def __init__(self, log: logging.Logger, config: TrainConfig, start_epoch: int) -> None:
        self.log = log
        self.epochs = config.epochs
        self.start_epoch = start_epoch
        self.started = time.perf_counter()

    def epochs_this_run(self, state: TrainingState) -> int:
        """Epochs completed in this call."""
        return state.epoch - self.start_epoch

    def epoch(self, state: TrainingState, record: dict[str, float]) -> None:
        """Log the epoch just recorded in ``state`` (its history ``record``).

        The time left extrapolates this call's mean epoch time; the time elapsed sums the
        epoch times of the history (resumed runs included).
        """
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.epochs_this_run(state) * (self.epochs - state.epoch)
        self.log.info(
            "epoch %d/%d  loss %.4e  val_loss %.4e  %.1f steps/s  elapsed %s  left %s",
            state.epoch,
            self.epochs,
            record["loss"],
            record["val_loss"],
            record["steps_per_s"],
            duration(sum(state.history["seconds"])),
            duration(left),
        )
