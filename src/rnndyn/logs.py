"""Logging for a workflow job: one log file per job, warnings and the traceback of a failure in it."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextmanager
def job_log(path: str | Path, name: str = "rnndyn") -> Iterator[logging.Logger]:
    """Send the job's log records (and Python warnings) to ``path`` and to stderr.

    An exception raised inside the block is logged with its traceback, then re-raised so the
    job fails; a ``SystemExit`` (a preempted training run exits for a requeue) is logged with its
    status and reason instead.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.FileHandler(path, mode="w"), logging.StreamHandler(sys.stderr)]
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    # matplotlib's PDF backend logs every font subset at INFO: noise, not progress.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    logging.captureWarnings(True)
    log = logging.getLogger(name)
    try:
        yield log
    except SystemExit as stop:
        log.warning("exiting with status %s: %s", stop.code, stop)
        raise
    except BaseException:
        log.exception("job failed")
        raise
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
