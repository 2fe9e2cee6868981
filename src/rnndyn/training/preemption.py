"""Preemption: catch the scheduler's signals, checkpoint, and leave with a retry-later status."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from pathlib import Path
from typing import Iterator

logger = logging.getLogger(__name__)

PREEMPTION_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)
"""SIGTERM: sent by SLURM at preemption or time-out (KillWait seconds before SIGKILL); SIGUSR1: an
early warning a job may ask for with ``--signal=USR1@<s>``. Under snakemake-executor-plugin-slurm
2.8 that warning also reaches the plugin's own snakemake process in the job step, which dies of it,
so profiles/slurm relies on SIGTERM plus periodic checkpoints instead."""

EXIT_PREEMPTED = 75
"""Exit status for a preempted run (``EX_TEMPFAIL`` of sysexits.h: retry later)."""


class TrainingInterrupted(SystemExit):
    """Raised after a preemption signal, once the checkpoint is written.

    A ``SystemExit``: left uncaught, it ends the job's process with status ``EXIT_PREEMPTED``, so
    the scheduler requeues the job, and the next :func:`~rnndyn.training.train` call with the
    same checkpoint path resumes. A job script needs no handler for it.

    Parameters
    ----------
    signal_number : int
        The signal received.
    epoch : int
        Last epoch completed (and checkpointed).
    checkpoint_path : Path
        Where the checkpoint was written.
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
    """Signal handler that records the signal instead of terminating the process.

    Attributes
    ----------
    signal_number : int or None
        The last signal received, ``None`` while none has arrived.
    """

    def __init__(self) -> None:
        self.signal_number: int | None = None

    def __call__(self, signal_number: int, frame: object) -> None:
        self.signal_number = signal_number


@contextlib.contextmanager
def catch_preemption(signals: tuple[int, ...] = PREEMPTION_SIGNALS) -> Iterator[PreemptionFlag]:
    """While active, ``signals`` set the yielded flag instead of ending the process.

    Python can install signal handlers only in the main thread; elsewhere the flag never rises
    (a warning is logged) and the signals keep their previous behaviour. The previous handlers
    are restored on exit.

    Parameters
    ----------
    signals : tuple of int
        Signal numbers to catch (default :data:`PREEMPTION_SIGNALS`).

    Yields
    ------
    PreemptionFlag
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


def preemption_guard(catch: bool) -> contextlib.AbstractContextManager[PreemptionFlag]:
    """:func:`catch_preemption` when ``catch``, else a flag that never rises (signals untouched)."""
    return catch_preemption() if catch else contextlib.nullcontext(PreemptionFlag())
