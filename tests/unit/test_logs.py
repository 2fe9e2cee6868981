"""Job logs: failures keep their traceback, an exit for a requeue says its status and reason."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rnndyn.logs import job_log


def test_failure_is_logged_with_traceback(tmp_path):
    with pytest.raises(ValueError), job_log(tmp_path / "job.log"):
        raise ValueError("bad input")
    text = (tmp_path / "job.log").read_text()
    assert "job failed" in text and "Traceback" in text and "ValueError: bad input" in text


_PREEMPTED_JOB = """
import sys
from pathlib import Path
from rnndyn.logs import job_log
from rnndyn.training import TrainingInterrupted
with job_log(sys.argv[1]):
    raise TrainingInterrupted(15, 3, Path("ckpt.pt"))
"""


def test_preempted_training_exits_75_and_logs_why(tmp_path):
    log = tmp_path / "train.log"
    proc = subprocess.run([sys.executable, "-c", _PREEMPTED_JOB, str(log)], capture_output=True, text=True)
    assert proc.returncode == 75
    text = log.read_text()
    assert "exiting with status 75: SIGTERM received: checkpoint after epoch 3 written to ckpt.pt" in text
    assert "job failed" not in text
