"""Tests of rnndyn.training.objectives: the loss, sparse and generalized teacher forcing and the
rollout objective."""

import math

import pytest
import torch

from rnndyn.models import closed_loop
from rnndyn.training import TrainConfig, objective, sparse_teacher_forcing
from rnndyn.training.objectives import generalized_teacher_forcing, loss
from tests.unit.training_helpers import damped_oscillation, fit, make


def test_loss_mse_and_cross_entropy_forms():
    outputs = torch.zeros(2, 4, 3, dtype=torch.float64)  # uniform logits over 3 classes
    labels = torch.tensor([[0, 1, 2, 0], [2, 2, 1, 0]])
    cross_entropy = TrainConfig(epochs=1, loss="cross_entropy")
    # Uniform logits: ln 3 per symbol, whatever the labels, given as indices or probabilities.
    torch.testing.assert_close(loss(cross_entropy, outputs, labels),
                               torch.tensor(math.log(3), dtype=torch.float64), rtol=1e-15, atol=0)
    one_hot = torch.nn.functional.one_hot(labels, 3).double()
    torch.testing.assert_close(loss(cross_entropy, outputs, one_hot),
                               torch.tensor(math.log(3), dtype=torch.float64), rtol=1e-15, atol=0)
    targets = torch.full((2, 4, 3), 2.0, dtype=torch.float64)
    assert loss(TrainConfig(epochs=1), outputs, targets).item() == 4.0  # mean of 2^2


def test_teacher_objective_is_the_loss_of_the_driven_outputs():
    model = make("gru", dtype=torch.float64)
    inputs, targets = damped_oscillation(n=4, length=6, dtype=torch.float64)
    expected = torch.nn.functional.mse_loss(model.outputs(inputs), targets)
    assert torch.equal(objective(model, inputs, targets, TrainConfig(epochs=1)), expected)


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


def test_sparse_tf_objective_scores_the_sparse_run():
    model = make("vanilla", dtype=torch.float64)
    inputs, targets = damped_oscillation(n=3, length=9, dtype=torch.float64)
    config = TrainConfig(epochs=1, mode="sparse_tf", tf_interval=4)
    expected = torch.nn.functional.mse_loss(sparse_teacher_forcing(model, inputs, 4), targets)
    assert torch.equal(objective(model, inputs, targets, config), expected)


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


def test_gtf_alpha_one_is_teacher_forcing_exactly():
    model = make("gru", dtype=torch.float64)
    inputs, targets = damped_oscillation(n=4, length=12, dtype=torch.float64)
    # 1 * x + 0 * y == x: the step-by-step teacher-forced run, bit for bit.
    assert torch.equal(generalized_teacher_forcing(model, inputs, 1.0),
                       sparse_teacher_forcing(model, inputs, 1))
    # The objective at alpha = 1 is teacher forcing's, on the same (fused) kernels.
    gtf = TrainConfig(epochs=1, mode="gtf", gtf_alpha=1.0)
    assert torch.equal(objective(model, inputs, targets, gtf),
                       objective(model, inputs, targets, TrainConfig(epochs=1)))


def test_gtf_alpha_zero_is_the_closed_loop_exactly():
    model = make("shplrnn", dtype=torch.float64, hidden_width=6)
    inputs, targets = damped_oscillation(n=4, length=12, dtype=torch.float64)
    free = generalized_teacher_forcing(model, inputs, 0.0)
    # 0 * x + 1 * y == y: the run on its own outputs after the first input.
    assert torch.equal(free, sparse_teacher_forcing(model, inputs, 12))
    predictions, _ = closed_loop(model, inputs[:, :1], 12)
    assert torch.equal(free, predictions)  # the shPLRNN's warm-up step is `step` itself
    config = TrainConfig(epochs=1, mode="gtf", gtf_alpha=0.0)
    expected = torch.nn.functional.mse_loss(predictions, targets)
    assert torch.equal(objective(model, inputs, targets, config), expected)
    # A fused-kernel family: the closed loop's warm-up runs on the kernel (round-off only).
    gru = make("gru", dtype=torch.float64)
    predictions, _ = closed_loop(gru, inputs[:, :1], 12)
    torch.testing.assert_close(objective(gru, inputs, targets, config),
                               torch.nn.functional.mse_loss(predictions, targets),
                               rtol=1e-13, atol=0)


def test_gtf_interpolates_data_and_predictions():
    model = make("lstm", dtype=torch.float64)
    inputs, targets = damped_oscillation(n=2, length=7, dtype=torch.float64)
    alpha = 0.3
    state, expected = model.initial_state(2), []
    for t in range(7):
        x_t = inputs[:, t] if t == 0 else alpha * inputs[:, t] + (1 - alpha) * expected[-1]
        state = model.step(x_t, state)
        expected.append(model.readout(state))
    expected = torch.stack(expected, dim=1)
    assert torch.equal(generalized_teacher_forcing(model, inputs, alpha), expected)
    # A float64 tensor alpha (adaptive GTF) is the same number: the same run.
    as_tensor = torch.tensor(alpha, dtype=torch.float64)
    assert torch.equal(generalized_teacher_forcing(model, inputs, as_tensor), expected)
    config = TrainConfig(epochs=1, mode="gtf", gtf_alpha=alpha)
    loss_value = torch.nn.functional.mse_loss(expected, targets)
    assert torch.equal(objective(model, inputs, targets, config), loss_value)
    adaptive = TrainConfig(epochs=1, mode="gtf", gtf_alpha="adaptive")
    assert torch.equal(objective(model, inputs, targets, adaptive, as_tensor), loss_value)
    with pytest.raises(ValueError, match="current alpha"):
        objective(model, inputs, targets, adaptive)
    # Between the two ends: neither teacher forcing nor the closed loop.
    assert not torch.allclose(expected, sparse_teacher_forcing(model, inputs, 1))
    assert not torch.allclose(expected, generalized_teacher_forcing(model, inputs, 0.0))
