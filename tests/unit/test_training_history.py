"""Tests of rnndyn.training.history: the per-epoch history, its dataset and the epoch log."""

import logging

import numpy as np

from rnndyn.store import WALL_CLOCK_ATTR, array_digest
from rnndyn.training import HISTORY_FIELDS, TrainConfig
from rnndyn.training.history import append_record, empty_history, history_dataset
from tests.unit.training_helpers import damped_oscillation, fit, make


def test_history_dataset_and_log(caplog):
    data = damped_oscillation(n=16, length=8)
    config = {"epochs": 4, "batch_size": 8, "lr": 0.1, "schedule": "cosine", "min_lr": 0.01}
    with caplog.at_level(logging.INFO, logger="rnndyn.training"):
        result = fit(make("leaky", alpha=0.5), data, data, config=config, seed=0)
    history = result.history
    assert set(history.data_vars) == set(HISTORY_FIELDS)
    assert history["loss"].dims == ("epoch",)
    np.testing.assert_array_equal(history["epoch"], [1, 2, 3, 4])
    for name in (*HISTORY_FIELDS, "epoch"):
        assert history[name].attrs["units"] and history[name].attrs["long_name"], name
    # Cosine annealing, closed form lr_e = min + (lr - min)(1 + cos(pi e / E)) / 2, e = 0..E-1;
    # PyTorch's recursive form agrees to float64 round-off.
    e = np.arange(4)
    expected = 0.01 + 0.09 * (1 + np.cos(np.pi * e / 4)) / 2
    np.testing.assert_allclose(history["lr"], expected, rtol=1e-12)
    assert (history["steps_per_s"] > 0).all() and (history["seconds"] > 0).all()
    assert result.device == "cpu" and history.attrs["status"] == "completed"
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch ")]
    assert len(lines) == 4 and lines[0].startswith("epoch 1/4") and "left" in lines[0]
    assert "steps/s" in lines[-1] and "val_loss" in lines[-1]


def test_history_dataset_marks_wall_clock_variables():
    history = empty_history()
    for epoch in range(3):
        append_record(history, {"loss": 1.0 / (epoch + 1), "val_loss": float("nan"),
                                "grad_norm": 2.0, "lr": 0.1, "steps_per_s": 7.0 + epoch,
                                "seconds": 0.5 + epoch})
    config = TrainConfig(epochs=3, loss="cross_entropy")
    ds = history_dataset(history, config, "completed", "cpu")
    np.testing.assert_array_equal(ds["loss"], [1.0, 0.5, 1 / 3])
    assert ds["loss"].dtype == np.float64 and ds["loss"].attrs["units"] == "nat"
    assert ds.attrs == {"status": "completed", "device": "cpu", "mode": "teacher",
                        "loss": "cross_entropy"}
    timed = {name for name in ds.data_vars if ds[name].attrs.get(WALL_CLOCK_ATTR)}
    assert timed == {"steps_per_s", "seconds"}
    # Determinism digests leave the timings out: two runs differing only in time agree.
    other = {**history, "seconds": [9.0, 9.0, 9.0], "steps_per_s": [1.0, 1.0, 1.0]}
    assert array_digest(history_dataset(other, config, "completed", "cpu")) == array_digest(ds)
    empty = history_dataset(empty_history(), TrainConfig(epochs=1), "incomplete", "cpu")
    assert empty.sizes["epoch"] == 0 and empty["loss"].attrs["units"] == "(target units)^2"
