"""Tests of rnndyn.training.checkpoint: bitwise resumption, atomic and periodic checkpoints."""

import numpy as np
import pytest
import torch

from rnndyn.training import TrainConfig
from rnndyn.training.checkpoint import (
    CHECKPOINT_FORMAT,
    Checkpointer,
    atomic_save,
    checkpoint_payload,
    restore_checkpoint,
)
from rnndyn.training.state import TrainingState
from tests.unit.training_helpers import assert_identical, damped_oscillation, fit, make, weights

RESUME_CONFIGS = [
    ("orthogonal", {"schedule": "cosine", "grad_clip": 0.5}),
    ("lstm", {"optimizer": "radam", "schedule": "step", "step_epochs": 2, "mode": "sparse_tf",
              "tf_interval": 3}),
    # Adaptive alpha is re-estimated across epoch boundaries (3 steps per epoch, every 2nd).
    ("shplrnn", {"mode": "gtf", "gtf_alpha": "adaptive", "gtf_alpha_every": 2,
                 "gtf_alpha_decay": 0.5}),
]


@pytest.mark.parametrize(("family", "config"), RESUME_CONFIGS, ids=["orthogonal", "lstm", "gtf"])
def test_resume_is_bitwise_identical(tmp_path, family, config):
    data = damped_oscillation(n=20, length=8)
    config = {"epochs": 6, "batch_size": 8, "lr": 0.01, **config}
    uninterrupted = make(family)
    reference = fit(uninterrupted, data, data, config=config, seed=7)

    path = tmp_path / "run" / "checkpoint.pt"
    first = fit(make(family), data, data, config=config, seed=7, checkpoint_path=path,
                max_epochs_this_run=2)
    assert first.status == "incomplete" and first.epochs_run == 2 and path.exists()
    # A requeued job rebuilds the model; every weight then comes from the checkpoint.
    resumed_model = make(family, seed=99)
    resumed = fit(resumed_model, data, data, config=config, seed=7, checkpoint_path=path)
    assert resumed.status == "completed" and resumed.epochs_run == 6
    assert_identical(weights(resumed_model), weights(uninterrupted))
    np.testing.assert_array_equal(resumed.history["loss"], reference.history["loss"])
    np.testing.assert_array_equal(resumed.history["lr"], reference.history["lr"])
    if config.get("mode") == "gtf":
        np.testing.assert_array_equal(resumed.history["gtf_alpha"], reference.history["gtf_alpha"])
    assert [p.name for p in path.parent.iterdir()] == ["checkpoint.pt"]  # no temporary left

    again = fit(make(family), data, data, config=config, seed=7, checkpoint_path=path)
    assert again.status == "completed" and again.history.sizes["epoch"] == 6  # nothing rerun
    with pytest.raises(ValueError, match="different config"):
        fit(make(family), data, data, config={**config, "lr": 0.02}, seed=7, checkpoint_path=path)
    with pytest.raises(ValueError, match="seed 7"):
        fit(make(family), data, data, config=config, seed=8, checkpoint_path=path)


@pytest.mark.parametrize(
    ("schedule", "seen"),
    [
        ({"checkpoint_every": 2}, [None, None, 2, 2, 4]),
        ({"checkpoint_every_s": 0.0}, [None, 1, 2, 3, 4]),
    ],
)
def test_periodic_checkpoints(tmp_path, schedule, seen):
    path = tmp_path / "checkpoint.pt"
    found = []

    def look(epoch, record):  # runs before the trainer's own checkpoint of this epoch
        found.append(torch.load(path, weights_only=True)["epoch"] if path.exists() else None)

    config = {"epochs": 5, "batch_size": 8, **schedule}
    data = damped_oscillation(n=8, length=4)
    fit(make(), data, config=config, seed=0, checkpoint_path=path, callback=look)
    assert found == seen


def test_atomic_save_keeps_the_previous_file_when_writing_fails(tmp_path):
    path = tmp_path / "deep" / "checkpoint.pt"
    atomic_save(path, {"epoch": 1})
    with pytest.raises(Exception):
        atomic_save(path, {"epoch": 2, "unpicklable": lambda: None})
    assert torch.load(path, weights_only=True) == {"epoch": 1}
    assert [p.name for p in path.parent.iterdir()] == ["checkpoint.pt"]


def test_payload_round_trip_and_refusals(tmp_path):
    config = TrainConfig(epochs=4, schedule="cosine")
    state = TrainingState.start(make(), config, 3)
    state.epoch, state.history["loss"] = 2, [1.0, 0.5]
    payload = checkpoint_payload(state, config)
    assert payload["format"] == CHECKPOINT_FORMAT == 1 and payload["seed"] == 3
    assert set(payload) == {"format", "config", "seed", "status", "epoch", "diverged_epoch",
                            "model", "optimizer", "scheduler", "generator", "history"}
    path = tmp_path / "checkpoint.pt"
    Checkpointer(path, config).save(state)
    fresh = TrainingState.start(make(seed=1), config, 3)
    restore_checkpoint(path, fresh, config)
    assert fresh.epoch == 2 and fresh.history["loss"] == [1.0, 0.5] and fresh.status == "running"
    assert_identical(weights(fresh.model), weights(state.model))
    with pytest.raises(ValueError, match="different config"):
        restore_checkpoint(path, TrainingState.start(make(), config, 3), TrainConfig(epochs=5))
    with pytest.raises(ValueError, match="seed 3"):
        restore_checkpoint(path, TrainingState.start(make(), config, 4), config)
    # Given a generator rather than a seed, the seed is not checked.
    restore_checkpoint(path, TrainingState.start(make(), config, torch.Generator()), config)


def test_checkpointer_without_path_writes_nothing(tmp_path):
    config = TrainConfig(epochs=2, checkpoint_every=1)
    checkpoints = Checkpointer(None, config)
    checkpoints.periodic(TrainingState.start(make(), config, 0))
    assert list(tmp_path.iterdir()) == []
