"""Tests of rnndyn.training.epoch: minibatch steps, validation loss and the epoch record."""

import copy
import math

import torch

from rnndyn.training import HISTORY_FIELDS, TrainConfig, objective
from rnndyn.training.data import TrainingData
from rnndyn.training.epoch import evaluate, run_epoch, train_epoch
from rnndyn.training.state import TrainingState
from tests.unit.training_helpers import assert_identical, damped_oscillation, make, weights


def test_evaluate_is_the_sequence_weighted_mean():
    model = make("gru", dtype=torch.float64)
    inputs, targets = damped_oscillation(n=7, length=6, dtype=torch.float64)
    config = TrainConfig(epochs=1, batch_size=3)  # batches of 3, 3 and 1 sequences
    # Mean over all sequences at once vs weighted batch means: float64 round-off only.
    whole = objective(model, inputs, targets, config).double()
    torch.testing.assert_close(evaluate(model, inputs, targets, config), whole, rtol=1e-14, atol=0)
    assert not model.training


def test_train_epoch_is_plain_minibatch_adam():
    model = make("vanilla", dtype=torch.float64)
    reference = copy.deepcopy(model)
    inputs, targets = damped_oscillation(n=10, length=5, dtype=torch.float64)
    config = TrainConfig(epochs=1, batch_size=4, lr=0.01)
    order = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss, norm = train_epoch(model, optimizer, inputs, targets, order, config)

    by_hand = torch.optim.Adam(reference.parameters(), lr=0.01)
    losses, norms = [], []
    for batch in order.split(4):
        by_hand.zero_grad()
        batch_loss = objective(reference, inputs[batch], targets[batch], config)
        batch_loss.backward()
        grads = [p.grad for p in reference.parameters() if p.grad is not None]
        norms.append(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])).item())
        by_hand.step()
        losses.append(batch_loss.item() * len(batch))
    assert_identical(weights(model), weights(reference))
    assert loss.dtype == norm.dtype == torch.float64
    assert math.isclose(loss.item(), sum(losses) / 10, rel_tol=1e-14)
    assert math.isclose(norm.item(), sum(norms) / 3, rel_tol=1e-12)


def test_train_epoch_clips_the_gradient_norm():
    model = make("vanilla", dtype=torch.float64)
    inputs, targets = damped_oscillation(n=4, length=5, dtype=torch.float64)
    config = TrainConfig(epochs=1, batch_size=4, grad_clip=1e-6)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    _, norm = train_epoch(model, optimizer, inputs, targets, torch.arange(4), config)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert norm.item() > 1e-3  # the norm before clipping is reported
    # One SGD step of rate 1 with the clipped gradient moves the weights by at most 1e-6.
    assert torch.linalg.vector_norm(after - before).item() <= 1e-6 * (1 + 1e-9)


def test_run_epoch_records_and_draws_the_order():
    model = make()
    config = TrainConfig(epochs=3, batch_size=4)
    state = TrainingState.start(model, config, 0)
    data = TrainingData.on_device(model, damped_oscillation(n=8, length=5), None, config,
                                  torch.device("cpu"))
    before = weights(model)
    record, last_finite = run_epoch(state, data, config)
    assert set(record) == set(HISTORY_FIELDS) and state.epoch == 1
    assert state.history["loss"] == [record["loss"]] and math.isnan(record["val_loss"])
    assert record["lr"] == config.lr and record["seconds"] > 0
    assert_identical(last_finite, before)
    # One permutation of the 8 sequences was drawn from the generator.
    expected = torch.Generator().manual_seed(0)
    torch.randperm(8, generator=expected)
    assert torch.equal(state.generator.get_state(), expected.get_state())
