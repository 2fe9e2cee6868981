"""Tests of rnndyn.training.state: optimiser, schedule, generator and progress of a run."""

import torch

from rnndyn.training import TrainConfig
from rnndyn.training.history import HISTORY_FIELDS
from rnndyn.training.state import TrainingState, make_optimizer, make_scheduler
from tests.unit.training_helpers import make, weights


def test_optimizer_and_schedules():
    model = make()
    next(model.parameters()).requires_grad_(False)
    optimizer = make_optimizer(model, TrainConfig(epochs=4, optimizer="radam", lr=0.1,
                                                   weight_decay=0.01))
    assert isinstance(optimizer, torch.optim.RAdam)
    assert optimizer.param_groups[0]["lr"] == 0.1
    assert optimizer.param_groups[0]["weight_decay"] == 0.01
    n_parameters = len(list(model.parameters()))
    assert len(optimizer.param_groups[0]["params"]) == n_parameters - 1  # trainable ones only
    assert make_scheduler(optimizer, TrainConfig(epochs=4)) is None
    cosine = make_scheduler(optimizer, TrainConfig(epochs=4, schedule="cosine", min_lr=0.01))
    assert isinstance(cosine, torch.optim.lr_scheduler.CosineAnnealingLR)
    assert cosine.T_max == 4 and cosine.eta_min == 0.01
    step = make_scheduler(make_optimizer(model, TrainConfig(epochs=9, lr=1.0)),
                          TrainConfig(epochs=9, schedule="step", step_epochs=3, step_gamma=0.5))
    rates = []
    for _ in range(7):
        rates.append(step.optimizer.param_groups[0]["lr"])
        step.optimizer.step()  # no gradients: leaves the weights alone
        step.step()
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]  # halved every 3 epochs, exactly


def test_start_with_seed_or_generator():
    config = TrainConfig(epochs=2)
    state = TrainingState.start(make(), config, 5)
    assert state.seed == 5 and state.epoch == 0 and state.status == "running"
    assert torch.equal(state.generator.get_state(), torch.Generator().manual_seed(5).get_state())
    assert state.history == {name: [] for name in HISTORY_FIELDS}
    generator = torch.Generator().manual_seed(1)
    state = TrainingState.start(make(), config, generator)
    assert state.generator is generator and state.seed is None
    assert state.lr == config.lr


def test_record_and_diverge():
    model = make()
    state = TrainingState.start(model, TrainConfig(epochs=2), 0)
    before = state.snapshot()
    state.record(dict.fromkeys(HISTORY_FIELDS, 1.0))
    assert state.epoch == 1 and state.history["loss"] == [1.0]
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(float("nan"))
    state.diverge(before)
    assert state.status == "diverged" and state.diverged_epoch == 1
    assert all(torch.equal(weights(model)[k], before[k]) for k in before)
