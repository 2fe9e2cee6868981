"""Tests of rnndyn.training.loop (`train`): learning, objectives end to end, divergence, the
package's public names."""

import math

import numpy as np
import pytest
import torch

import rnndyn.training
from rnndyn.devices import select_device
from tests.unit.training_helpers import assert_identical, damped_oscillation, fit, make, weights


def test_select_device():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            select_device("cuda")


def test_public_names():
    assert sorted(rnndyn.training.__all__) == [
        "EXIT_PREEMPTED", "HISTORY_FIELDS", "TrainConfig", "TrainResult", "TrainingInterrupted",
        "generalized_teacher_forcing", "objective", "sparse_teacher_forcing", "train",
    ]
    assert all(hasattr(rnndyn.training, name) for name in rnndyn.training.__all__)
    assert not hasattr(rnndyn.training, "select_device")  # lives in rnndyn.devices


def test_loss_decreases_on_learnable_task():
    train_data, val_data = damped_oscillation(seed=0), damped_oscillation(seed=1)
    config = {"epochs": 12, "batch_size": 8, "lr": 0.05}
    result = fit(make("linear", hidden=6), train_data, val_data, config=config, seed=0)
    assert result.status == "completed" and result.epochs_run == 12
    loss = result.history["loss"].values
    # A linear RNN represents the linear map exactly: the loss must fall by far more than 10x.
    assert loss[-1] < 0.1 * loss[0]
    assert result.final_val_loss < 0.1 * result.history["val_loss"].values[0]


def test_cross_entropy_with_class_indices():
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (32, 10), generator=generator)
    inputs = torch.nn.functional.one_hot(labels, 3).float()
    config = {"epochs": 15, "batch_size": 8, "lr": 0.05, "loss": "cross_entropy"}
    result = fit(make("gru", hidden=8), (inputs, labels), config=config, seed=0)
    loss = result.history["loss"].values
    assert loss[0] > 0.5 * math.log(3)  # starts near chance, ln 3 per symbol
    assert loss[-1] < 0.1 * loss[0]  # copying the current symbol is trivially learnable
    assert result.history["loss"].attrs["units"] == "nat"
    assert math.isnan(result.final_val_loss)  # no validation data


def test_trainer_sparse_tf_interval_one_equals_teacher():
    data = damped_oscillation(n=16, length=10, dtype=torch.float64)
    base = {"epochs": 3, "batch_size": 8, "lr": 0.01, "grad_clip": 1.0}
    teacher, sparse = make("gru", dtype=torch.float64), make("gru", dtype=torch.float64)
    result_teacher = fit(teacher, data, data, config=base, seed=3)
    sparse_config = {**base, "mode": "sparse_tf", "tf_interval": 1}
    result_sparse = fit(sparse, data, data, config=sparse_config, seed=3)
    # Same objective computed by the fused kernel and by explicit steps: float64 round-off
    # (1e-16) in the gradients, which six Adam steps of size <= lr keep far below 1e-10.
    for name, value in weights(teacher).items():
        torch.testing.assert_close(weights(sparse)[name], value, rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        result_sparse.history["loss"], result_teacher.history["loss"], rtol=1e-10
    )


def test_divergence_is_recorded_not_raised(tmp_path):
    data = damped_oscillation(n=8, length=30)
    # One batch per epoch; the first Adam step moves every weight by lr = 1e30, so the second
    # epoch's outputs (~1e60) overflow float32: divergence in epoch 2, deterministically.
    config = {"epochs": 5, "batch_size": 8, "lr": 1e30}
    after_one_epoch = make("linear")
    fit(after_one_epoch, data, config={**config, "epochs": 1}, seed=0)

    model = make("linear")
    path = tmp_path / "checkpoint.pt"
    result = fit(model, data, config=config, seed=0, checkpoint_path=path)
    assert result.status == "diverged" and result.diverged_epoch == 2 and result.epochs_run == 2
    assert not math.isfinite(result.final_loss)
    assert math.isfinite(result.history["loss"].values[0])
    assert result.history.attrs["status"] == "diverged"
    # The model holds the last finite weights: those at the end of epoch 1.
    assert_identical(weights(model), weights(after_one_epoch))
    assert all(torch.isfinite(value).all() for value in weights(model).values())
    again = fit(make("linear"), data, config=config, seed=0, checkpoint_path=path)
    assert again.status == "diverged" and again.diverged_epoch == 2  # recorded in the checkpoint


def test_stopping_early_without_a_checkpoint_is_incomplete():
    data = damped_oscillation(n=8, length=4)
    seen = []
    result = fit(make(), data, config={"epochs": 5, "batch_size": 8}, seed=0,
                 max_epochs_this_run=2, callback=lambda epoch, record: seen.append(epoch))
    assert result.status == "incomplete" and result.epochs_run == 2 and seen == [1, 2]
    assert result.history.attrs["status"] == "incomplete" and result.diverged_epoch is None
    assert result.final_loss == result.history["loss"].values[-1]
