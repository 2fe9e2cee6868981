"""Tests of rnndyn.training.progress: the per-epoch log line."""

import logging
import math

from rnndyn.training import HISTORY_FIELDS, TrainConfig
from rnndyn.training.progress import ProgressLog, duration
from rnndyn.training.state import TrainingState
from tests.unit.training_helpers import make


def test_duration():
    assert duration(3661.4) == "1:01:01"
    assert duration(0.4) == "0:00:00"
    assert duration(math.inf) == duration(math.nan) == "?"


def test_progress_line(caplog):
    config = TrainConfig(epochs=10)
    state = TrainingState.start(make(), config, 0)
    state.epoch = 4  # resumed after epoch 4
    progress = ProgressLog(logging.getLogger("rnndyn.training.test"), config, state.epoch)
    record = {**dict.fromkeys(HISTORY_FIELDS, 1.0), "loss": 0.25, "seconds": 3600.0}
    state.record(record)
    assert progress.epochs_this_run(state) == 1
    with caplog.at_level(logging.INFO, logger="rnndyn.training"):
        progress.epoch(state, record)
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("epoch 5/10  loss 2.5000e-01  val_loss 1.0000e+00  1.0 steps/s")
    assert "elapsed 1:00:00" in line and line.endswith("left 0:00:00")  # this call: ~0 s
