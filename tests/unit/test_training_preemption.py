"""Tests of rnndyn.training.preemption: signals caught, checkpoint written, status 75."""

import logging
import os
import signal
import threading

import pytest
import torch

from rnndyn.training import EXIT_PREEMPTED, TrainingInterrupted
from rnndyn.training.preemption import PREEMPTION_SIGNALS, catch_preemption, preemption_guard
from tests.unit.training_helpers import assert_identical, damped_oscillation, fit, make, weights


@pytest.mark.parametrize("signal_number", [signal.SIGUSR1, signal.SIGTERM])
def test_signal_writes_checkpoint_and_raises(tmp_path, signal_number):
    data = damped_oscillation(n=16, length=8)
    config = {"epochs": 5, "batch_size": 8, "lr": 0.01, "schedule": "cosine"}
    uninterrupted = make("gru")
    fit(uninterrupted, data, data, config=config, seed=1)

    def preempt(epoch, record):
        if epoch == 2:
            os.kill(os.getpid(), signal_number)

    path = tmp_path / "checkpoint.pt"
    handler_before = signal.getsignal(signal_number)
    with pytest.raises(TrainingInterrupted) as caught:
        fit(make("gru"), data, data, config=config, seed=1, checkpoint_path=path, callback=preempt)
    assert caught.value.signal_number == signal_number and caught.value.epoch == 2
    assert caught.value.exit_code == EXIT_PREEMPTED != 0
    assert caught.value.code == EXIT_PREEMPTED  # uncaught, it ends the job with that status
    assert signal.getsignal(signal_number) is handler_before  # handlers restored
    assert torch.load(path, weights_only=True)["epoch"] == 2

    resumed_model = make("gru")
    result = fit(resumed_model, data, data, config=config, seed=1, checkpoint_path=path)
    assert result.status == "completed"
    assert_identical(weights(resumed_model), weights(uninterrupted))


def test_catch_preemption_raises_the_flag_and_restores_handlers():
    before = {number: signal.getsignal(number) for number in PREEMPTION_SIGNALS}
    with catch_preemption() as flag:
        assert flag.signal_number is None
        os.kill(os.getpid(), signal.SIGUSR1)
        assert flag.signal_number == signal.SIGUSR1
    assert {number: signal.getsignal(number) for number in PREEMPTION_SIGNALS} == before
    assert EXIT_PREEMPTED == 75  # EX_TEMPFAIL: retry later


def test_catch_preemption_outside_the_main_thread_only_warns(caplog):
    seen = []

    def worker():
        with catch_preemption() as flag:
            seen.append(flag.signal_number)

    with caplog.at_level(logging.WARNING, logger="rnndyn.training"):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen == [None]
    assert any("main thread" in record.getMessage() for record in caplog.records)


def test_guard_without_catching_leaves_signals_alone():
    before = signal.getsignal(signal.SIGUSR1)
    with preemption_guard(False) as flag:
        assert signal.getsignal(signal.SIGUSR1) is before and flag.signal_number is None


def test_interrupted_message():
    error = TrainingInterrupted(signal.SIGTERM, 3, "run/checkpoint.pt")
    assert str(error) == "SIGTERM received: checkpoint after epoch 3 written to run/checkpoint.pt"
    assert isinstance(error, SystemExit)
