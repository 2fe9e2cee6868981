"""Tests of rnndyn.training: objectives, reproducible resume, divergence, preemption, history."""

import logging
import math
import os
import signal

import numpy as np
import pytest
import torch

from rnndyn.models import build_model, closed_loop
from rnndyn.training import (
    EXIT_PREEMPTED,
    HISTORY_FIELDS,
    TrainConfig,
    TrainingInterrupted,
    objective,
    select_device,
    sparse_teacher_forcing,
    train,
)

torch.set_num_threads(1)


def make(name="vanilla", *, seed=0, dtype=torch.float32, size=3, hidden=8, **options):
    return build_model(
        name,
        input_size=size,
        hidden_size=hidden,
        output_size=size,
        generator=torch.Generator().manual_seed(seed),
        dtype=dtype,
        **options,
    )


def damped_oscillation(n=32, length=20, dtype=torch.float32, seed=0):
    """One-step-ahead pairs of a noisy damped rotation in the plane plus a constant channel."""
    generator = torch.Generator().manual_seed(seed)
    angle, radius = 0.3, 0.97
    cos, sin = math.cos(angle), math.sin(angle)
    rotation = radius * torch.tensor(
        [[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64
    )
    state = torch.randn(n, 3, dtype=torch.float64, generator=generator)
    series = []
    for _ in range(length + 1):
        series.append(state)
        state = state @ rotation.T
    series = torch.stack(series, dim=1).to(dtype)
    return series[:, :-1], series[:, 1:]


def fit(model, data, val=None, **keywords):
    """`train` on the CPU (the device these tests pin)."""
    return train(model, data, val, device="cpu", **keywords)


def weights(model):
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def assert_identical(first, second):
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


def test_select_device():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            select_device("cuda")


def test_config_from_dict():
    config = TrainConfig.from_dict({"epochs": 3, "lr": "1e-3", "grad_clip": 1})
    assert config.lr == 0.001 and config.grad_clip == 1.0 and isinstance(config.grad_clip, float)
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown TrainConfig keys"):
        TrainConfig.from_dict({"epochs": 3, "learning_rate": 1e-3})
    with pytest.raises(ValueError, match="needs loss 'mse'"):
        TrainConfig(epochs=3, mode="sparse_tf", loss="cross_entropy")
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(epochs=3, schedule="linear")


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


def test_sparse_teacher_forcing_with_interval_one_is_teacher_forcing():
    model = make("gru", dtype=torch.float64)
    inputs, _ = damped_oscillation(n=4, length=12, dtype=torch.float64)
    # Kernel vs explicit cell equations in float64: round-off only.
    sparse = sparse_teacher_forcing(model, inputs, 1)
    torch.testing.assert_close(sparse, model.outputs(inputs), rtol=0, atol=1e-13)


def test_sparse_teacher_forcing_feeds_outputs_between_reinjections():
    model = make("lstm", dtype=torch.float64)
    inputs, _ = damped_oscillation(n=2, length=7, dtype=torch.float64)
    outputs = sparse_teacher_forcing(model, inputs, 3)
    state, expected = model.initial_state(2), []
    for t in range(7):
        state = model.step(inputs[:, t] if t in (0, 3, 6) else expected[-1], state)
        expected.append(model.readout(state))
    assert torch.equal(outputs, torch.stack(expected, dim=1))
    assert not torch.allclose(outputs, model.outputs(inputs))


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


def test_rollout_objective_scores_closed_loop_horizon():
    model = make("vanilla", dtype=torch.float64)
    inputs, targets = damped_oscillation(n=4, length=10, dtype=torch.float64)
    config = TrainConfig(epochs=1, mode="rollout", rollout_horizon=4)
    predictions, _ = closed_loop(model, inputs[:, :7], 4)
    expected = torch.nn.functional.mse_loss(predictions, targets[:, 6:])
    assert torch.equal(objective(model, inputs, targets, config), expected)
    # Horizon 1 is the teacher-forced prediction of the last step (kernel vs step: round-off).
    config = TrainConfig(epochs=1, mode="rollout", rollout_horizon=1)
    last = torch.nn.functional.mse_loss(model.outputs(inputs)[:, -1:], targets[:, -1:])
    torch.testing.assert_close(objective(model, inputs, targets, config), last, rtol=1e-13, atol=0)
    result = fit(model, (inputs, targets), config={**config.to_dict(), "epochs": 2}, seed=0)
    assert result.status == "completed"


RESUME_CONFIGS = [
    ("orthogonal", {"schedule": "cosine", "grad_clip": 0.5}),
    ("lstm", {"optimizer": "radam", "schedule": "step", "step_epochs": 2, "mode": "sparse_tf",
              "tf_interval": 3}),
]


@pytest.mark.parametrize(("family", "config"), RESUME_CONFIGS, ids=["orthogonal", "lstm"])
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


def test_data_shapes_are_checked():
    inputs, targets = damped_oscillation(n=4, length=5)
    with pytest.raises(ValueError, match="inputs must be"):
        fit(make(), (inputs[..., :2], targets), config={"epochs": 1}, seed=0)
    with pytest.raises(ValueError, match="rollout_horizon"):
        config = {"epochs": 1, "mode": "rollout", "rollout_horizon": 6}
        fit(make(), (inputs, targets), config=config, seed=0)
