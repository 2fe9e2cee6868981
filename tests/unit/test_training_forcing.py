"""Tests of rnndyn.training.forcing: the Jacobian growth, adaptive alpha and its annealing, and
adaptive generalized teacher forcing in the trainer."""

import math

import numpy as np
import pytest
import torch

from rnndyn.models.base import RecurrentModel
from rnndyn.training import TrainConfig, forcing
from rnndyn.training.forcing import (
    AdaptiveAlpha,
    anneal,
    estimate_alpha,
    jacobian_growth,
    optimal_alpha,
    spectral_norms,
)
from tests.unit.training_helpers import damped_oscillation, fit, make


def linear_model(scale):
    """Linear family ``h <- W h + U x``, ``y = C h`` whose closed-loop map ``W + U C`` is
    ``scale`` times an orthogonal matrix (every singular value ``scale``)."""
    model = make("linear", dtype=torch.float64, hidden=4)
    q, _ = torch.linalg.qr(torch.randn(4, 4, dtype=torch.float64,
                                       generator=torch.Generator().manual_seed(1)))
    with torch.no_grad():
        model.input_weight.copy_(0.1 * torch.ones(4, 3, dtype=torch.float64))
        model.output_layer.weight.copy_(torch.ones(3, 4, dtype=torch.float64))
        model.rnn.weight_hh_l0.copy_(scale * q - model.input_weight @ model.output_layer.weight)
    return model


@pytest.mark.parametrize("scale", [0.8, 1.25])
def test_growth_of_a_linear_model_is_its_matrix_norm(scale):
    model = linear_model(scale)
    inputs, _ = damped_oscillation(n=3, length=10, dtype=torch.float64)
    # The Jacobian is W + U C everywhere, with every singular value `scale` (float64 round-off).
    assert jacobian_growth(model, inputs).item() == pytest.approx(scale, rel=1e-12)
    alpha = estimate_alpha(model, inputs).item()
    if scale < 1:
        assert alpha == 0.0  # a contracting model needs no forcing
    else:
        assert alpha == pytest.approx(1 - 1 / scale, rel=1e-12) and alpha > 0  # 0.2


def test_optimal_alpha():
    growth = torch.tensor([0.0, 0.5, 1.0, 2.0, 4.0, math.inf, math.nan], dtype=torch.float64)
    expected = [0.0, 0.0, 0.0, 0.5, 0.75, 1.0]
    np.testing.assert_array_equal(optimal_alpha(growth)[:-1].numpy(), expected)
    assert optimal_alpha(growth)[-1].isnan()  # a diverged model shows, it is not hidden


@pytest.mark.parametrize(("name", "options"), [("vanilla", {"g": 3.0}), ("lstm", {}),
                                               ("gru", {}), ("shplrnn", {"hidden_width": 5}),
                                               ("orthogonal", {"nonlinearity": "tanh"})])
def test_estimate_is_a_forcing_in_the_unit_interval(name, options):
    model = make(name, dtype=torch.float64, **options)
    inputs, _ = damped_oscillation(n=3, length=6, dtype=torch.float64)
    alpha = estimate_alpha(model, inputs)
    assert alpha.dtype == torch.float64 and alpha.ndim == 0 and 0.0 <= alpha.item() <= 1.0
    if name == "vanilla":
        assert alpha.item() > 0  # g = 3: strongly expanding


def test_spectral_norms_by_power_iteration():
    model = make("shplrnn", dtype=torch.float64, hidden_width=5)
    inputs, _ = damped_oscillation(n=3, length=6, dtype=torch.float64)
    states = model(inputs)[1].reshape(-1, model.state_size).detach()
    exact = torch.linalg.matrix_norm(RecurrentModel.closed_loop_jacobian(model, states), ord=2)
    estimate = spectral_norms(model, states)
    # ||J v|| for a unit v never exceeds ||J||; 20 iterations converge to 2e-4 here (measured
    # 1.1e-4 at worst; on 32-unit Lorenz-sized GRU/LSTM/shPLRNN states 2e-2 at worst).
    assert (estimate <= exact * (1 + 1e-12)).all()
    torch.testing.assert_close(estimate, exact.detach(), rtol=2e-4, atol=0)


def test_jacobian_growth_is_the_max_over_sequences_of_geometric_means(monkeypatch):
    model = make("gru", dtype=torch.float64)
    inputs, _ = damped_oscillation(n=3, length=6, dtype=torch.float64)
    states = model(inputs)[1].detach()

    def growth(chosen):
        norms = spectral_norms(model, chosen.reshape(-1, model.state_size)).reshape(3, -1)
        return norms.log().mean(dim=1).exp().max()

    torch.testing.assert_close(jacobian_growth(model, inputs), growth(states), rtol=1e-14, atol=0)
    # Over MAX_STATES states: 6 / 3 = 2 time steps per sequence, the midpoints 1.5 and 4.5 of
    # the two halves, rounded down.
    monkeypatch.setattr(forcing, "MAX_STATES", 6)
    torch.testing.assert_close(jacobian_growth(model, inputs), growth(states[:, [1, 4]]),
                               rtol=1e-14, atol=0)


def test_anneal_rises_at_once_and_falls_slowly():
    alpha = torch.tensor(0.5, dtype=torch.float64)
    assert anneal(alpha, torch.tensor(0.7, dtype=torch.float64), 0.9).item() == 0.7
    assert anneal(alpha, torch.tensor(0.0, dtype=torch.float64), 0.9).item() == pytest.approx(0.45)


def test_adaptive_alpha_schedule():
    config = TrainConfig(epochs=1, mode="gtf", gtf_alpha_every=3, gtf_alpha_decay=0.0)
    adaptive = AdaptiveAlpha(config, torch.device("cpu"))
    assert adaptive.value.item() == 1.0  # the start value, before any estimate
    contracting = linear_model(0.8)
    inputs, _ = damped_oscillation(n=2, length=5, dtype=torch.float64)
    adaptive.before_step(0, contracting, inputs)
    adaptive.before_step(1, contracting, inputs)
    assert adaptive.value.item() == 1.0  # estimates before steps 3, 6, ... (1-based)
    adaptive.before_step(2, contracting, inputs)
    assert adaptive.value.item() == 0.0  # decay 0: alpha becomes the estimate
    adaptive.load_state_dict(torch.tensor(0.25))
    assert adaptive.value.dtype == torch.float64 and adaptive.value.item() == 0.25


def test_adaptive_gtf_training_records_alpha():
    data = damped_oscillation(n=16, length=10)
    config = {"epochs": 3, "batch_size": 8, "lr": 0.01, "mode": "gtf", "gtf_alpha": "adaptive",
              "gtf_alpha_every": 1, "gtf_alpha_decay": 0.5}
    result = fit(make("vanilla", g=3.0), data, data, config=config, seed=0)
    assert result.status == "completed"
    alpha = result.history["gtf_alpha"].values
    assert alpha.shape == (3,) and ((alpha >= 0) & (alpha <= 1)).all()
    assert (alpha < 1).all()  # annealed from the start value 1 towards the estimates
    assert result.history["gtf_alpha"].attrs["units"] == "1"
    fixed = fit(make(), data, config={**config, "gtf_alpha": 0.25, "epochs": 1}, seed=0)
    assert fixed.history["gtf_alpha"].values.tolist() == [0.25]
    teacher = fit(make(), data, config={"epochs": 1}, seed=0)
    assert "gtf_alpha" not in teacher.history  # other modes keep their history as it was
