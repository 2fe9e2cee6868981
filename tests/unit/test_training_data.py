"""Tests of rnndyn.training.data: shape checks and the move to the device."""

import pytest
import torch

from rnndyn.models import build_model
from rnndyn.training import TrainConfig
from rnndyn.training.data import TrainingData, check_data
from tests.unit.training_helpers import damped_oscillation, fit, make


def test_data_shapes_are_checked():
    inputs, targets = damped_oscillation(n=4, length=5)
    with pytest.raises(ValueError, match="inputs must be"):
        fit(make(), (inputs[..., :2], targets), config={"epochs": 1}, seed=0)
    with pytest.raises(ValueError, match="rollout_horizon"):
        config = {"epochs": 1, "mode": "rollout", "rollout_horizon": 6}
        fit(make(), (inputs, targets), config=config, seed=0)


def test_check_data_per_loss_and_mode():
    model = make()
    inputs, targets = damped_oscillation(n=4, length=5)
    check_data(model, inputs, targets, TrainConfig(epochs=1))
    with pytest.raises(ValueError, match="mse targets"):
        check_data(model, inputs, targets[:, :4], TrainConfig(epochs=1))
    cross_entropy = TrainConfig(epochs=1, loss="cross_entropy")
    check_data(model, inputs, torch.zeros(4, 5, dtype=torch.long), cross_entropy)
    with pytest.raises(ValueError, match="cross-entropy targets"):
        check_data(model, inputs, torch.zeros(4, 6, dtype=torch.long), cross_entropy)
    two_outputs = build_model("vanilla", input_size=3, hidden_size=4, output_size=2,
                              generator=torch.Generator().manual_seed(0))
    check_data(two_outputs, inputs, targets[..., :2], TrainConfig(epochs=1))
    with pytest.raises(ValueError, match="needs output_size == input_size"):
        check_data(two_outputs, inputs, targets[..., :2], TrainConfig(epochs=1, mode="sparse_tf"))
    check_data(model, inputs, targets, TrainConfig(epochs=1, mode="rollout", rollout_horizon=5))


def test_training_data_on_device():
    model = make()
    train_pair, val_pair = damped_oscillation(n=4, length=5), damped_oscillation(n=2, length=5)
    data = TrainingData.on_device(model, train_pair, None, TrainConfig(epochs=1), torch.device("cpu"))
    assert not data.has_validation and data.val_inputs is None
    data = TrainingData.on_device(model, train_pair, val_pair, TrainConfig(epochs=1), torch.device("cpu"))
    assert data.has_validation and torch.equal(data.val_targets, val_pair[1])
    with pytest.raises(ValueError, match="inputs must be"):  # validation data are checked too
        TrainingData.on_device(model, train_pair, (val_pair[0][..., :1], val_pair[1]),
                               TrainConfig(epochs=1), torch.device("cpu"))
