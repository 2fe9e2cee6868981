"""Tests of rnndyn.models: the factory, the forward/step contract, the constraints, closed loop."""

import math

import pytest
import torch

from rnndyn.models import MODELS, build_model, closed_loop

torch.set_num_threads(1)

FAMILIES = [
    ("vanilla", {"g": 1.2}),
    ("leaky", {"alpha": 0.3}),
    ("orthogonal", {"nonlinearity": "tanh"}),
    ("orthogonal", {"nonlinearity": "linear"}),
    ("spectral", {"g": 2.0}),
    ("lstm", {}),
    ("gru", {}),
    ("linear", {}),
    ("shplrnn", {"hidden_width": 12}),
]
IDS = [f"{name}-{options}" for name, options in FAMILIES]


def make(name, options, *, seed=0, dtype=torch.float64, hidden_size=16, output_size=2):
    return build_model(
        name,
        input_size=3,
        hidden_size=hidden_size,
        output_size=output_size,
        generator=torch.Generator().manual_seed(seed),
        dtype=dtype,
        **options,
    )


def iterate_step(model, x, h0):
    state, states = h0, []
    for t in range(x.shape[1]):
        state = model.step(x[:, t], state)
        states.append(state)
    return torch.stack(states, dim=1)


def test_registry_lists_every_family():
    assert set(MODELS) == {
        "vanilla", "leaky", "orthogonal", "spectral", "lstm", "gru", "linear", "shplrnn"
    }


@pytest.mark.parametrize(("name", "options"), FAMILIES, ids=IDS)
def test_shapes(name, options):
    model = make(name, options, dtype=torch.float32)
    expected_state = 32 if name == "lstm" else 16
    assert model.state_size == expected_state
    x = torch.randn(4, 7, 3, generator=torch.Generator().manual_seed(1))
    y, states = model(x)
    assert y.shape == (4, 7, 2) and y.dtype == torch.float32
    assert states.shape == (4, 7, expected_state)
    assert model.initial_state(4).shape == (4, expected_state)
    assert model.step(x[:, 0], model.initial_state(4)).shape == (4, expected_state)
    assert model.readout(states).shape == (4, 7, 2)
    assert model.outputs(x).shape == (4, 7, 2)


@pytest.mark.parametrize(("name", "options"), FAMILIES, ids=IDS)
def test_step_agrees_with_forward(name, options):
    model = make(name, options)
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(4, 25, 3, dtype=torch.float64, generator=generator)
    h0 = 0.5 * torch.randn(4, model.state_size, dtype=torch.float64, generator=generator)
    y, states = model(x, h0)
    stepped = iterate_step(model, x, h0)
    if name in ("leaky", "linear", "shplrnn") or options.get("nonlinearity") == "linear":
        assert torch.equal(stepped, states)  # forward iterates `step`: the same operations
    else:
        # The fused kernels sum the same float64 products in another order: differences are
        # round-off, a few ulps of O(1) states (measured <= 2.2e-16 over 25 steps).
        torch.testing.assert_close(stepped, states, rtol=0, atol=1e-13)
    torch.testing.assert_close(model.readout(states), y, rtol=0, atol=1e-13)  # same reason
    torch.testing.assert_close(model.outputs(x, h0), y, rtol=0, atol=0)


def test_lstm_state_holds_the_cell_state():
    model = make("lstm", {})
    x = torch.randn(3, 9, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    _, states = model(x)
    _, (h_last, c_last) = model.lstm(x)
    # Cell state rebuilt from recomputed gates vs the fused kernel's own: round-off only.
    torch.testing.assert_close(states[:, -1, 16:], c_last[0], rtol=0, atol=1e-13)
    torch.testing.assert_close(states[:, -1, :16], h_last[0], rtol=0, atol=0)


def test_initialisation_comes_from_the_generator_only():
    global_state = torch.get_rng_state()
    first = {name: make(name, options).state_dict() for name, options in FAMILIES}
    assert torch.equal(torch.get_rng_state(), global_state)  # global RNG untouched
    second = {name: make(name, options).state_dict() for name, options in FAMILIES}
    other = make("vanilla", {"g": 1.2}, seed=1).state_dict()
    for name in first:
        assert first[name].keys() == second[name].keys()
        assert all(torch.equal(first[name][key], second[name][key]) for key in first[name])
    assert not torch.equal(other["rnn.weight_hh_l0"], first["vanilla"]["rnn.weight_hh_l0"])


@pytest.mark.parametrize(("name", "options"), FAMILIES, ids=IDS)
def test_float32_model_is_the_rounded_float64_model(name, options):
    single = make(name, options, dtype=torch.float32).state_dict()
    double = make(name, options, dtype=torch.float64).state_dict()
    for key, value in double.items():
        assert torch.equal(single[key], value.float()), key


def test_vanilla_recurrent_weight_variance():
    n, g = 200, 1.5
    model = make("vanilla", {"g": g}, hidden_size=n)
    std = model.recurrent_weight.std().item()
    # n² = 40,000 Gaussian entries: the sample std has relative standard error 1/sqrt(2 n²)
    # = 0.35 %; 2 % is about six standard errors.
    assert std == pytest.approx(g / math.sqrt(n), rel=0.02)


def test_leaky_unit_decays_geometrically():
    alpha = 0.2
    model = make("leaky", {"alpha": alpha})
    with torch.no_grad():
        model.recurrent_weight.zero_()
        model.input_weight.zero_()
    h0 = torch.ones(1, 16, dtype=torch.float64)
    _, states = model(torch.zeros(1, 5, 3, dtype=torch.float64), h0)
    expected = (1 - alpha) ** torch.arange(1, 6, dtype=torch.float64)
    # W = U = b = 0: h_t = (1 - alpha)^t h_0; only the rounding of repeated products differs.
    torch.testing.assert_close(states[0, :, 0], expected, rtol=1e-15, atol=0)


def test_linear_family_is_linear_without_offsets():
    model = make("linear", {})
    assert not any("bias" in name for name, _ in model.named_parameters())
    generator = torch.Generator().manual_seed(4)
    x1, x2 = (torch.randn(2, 12, 3, dtype=torch.float64, generator=generator) for _ in range(2))
    y1, y2, y12 = model(x1)[0], model(x2)[0], model(2.0 * x1 - 3.0 * x2)[0]
    # Superposition holds exactly in real arithmetic; float64 round-off on O(1) outputs.
    torch.testing.assert_close(y12, 2.0 * y1 - 3.0 * y2, rtol=0, atol=1e-13)


def random_training(model, steps=20, lr=0.5):
    """Adam steps on a random regression target: moves W far from its initial value."""
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(8, 10, 3, dtype=torch.float64, generator=generator)
    target = 3.0 * torch.randn(8, 10, 2, dtype=torch.float64, generator=generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x)[0], target).backward()
        optimizer.step()


@pytest.mark.parametrize("nonlinearity", ["tanh", "linear"])
def test_orthogonal_weight_stays_orthogonal(nonlinearity):
    model = make("orthogonal", {"nonlinearity": nonlinearity})
    initial = model.recurrent_weight.detach().clone()
    random_training(model)
    w = model.recurrent_weight.detach()
    assert not torch.allclose(w, initial)  # training did move W
    identity = torch.eye(16, dtype=torch.float64)
    # float64 matrix exponential of a skew matrix and its product with the orthogonal base:
    # orthogonal to round-off, O(N eps) = 16 * 2.2e-16.
    torch.testing.assert_close(w.T @ w, identity, rtol=0, atol=1e-13)


def test_orthogonal_linear_preserves_norm_of_state_without_input():
    model = make("orthogonal", {"nonlinearity": "linear"})
    h0 = torch.randn(2, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        model.input_weight.zero_()
        model.rnn.bias_ih_l0.zero_()
        model.rnn.bias_hh_l0.zero_()
    _, states = model(torch.zeros(2, 50, 3, dtype=torch.float64), h0)
    # ||W^t h0|| = ||h0|| for orthogonal W; 50 products accumulate ~50 ulps at most.
    torch.testing.assert_close(states[:, -1].norm(dim=-1), h0.norm(dim=-1), rtol=1e-13, atol=0)


def test_spectral_norm_bounded_after_training():
    model = make("spectral", {"g": 2.0})
    random_training(model, lr=1.0)
    v = model.rnn.parametrizations.weight_hh_l0.original.detach()
    assert torch.linalg.matrix_norm(v, ord=2) > 1.5  # the bound is active, not vacuous
    sigma = torch.linalg.matrix_norm(model.recurrent_weight.detach(), ord=2).item()
    # W = V / sigma_max(V) exactly up to the rounding of one division and one SVD (float64).
    assert sigma <= 1.0 + 1e-13


@pytest.mark.parametrize(("name", "options"), FAMILIES, ids=IDS)
def test_closed_loop_feeds_predictions_back(name, options):
    model = make(name, options, output_size=3)
    warmup = torch.randn(2, 6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    predictions, states = closed_loop(model, warmup, 5)
    assert predictions.shape == (2, 5, 3)
    assert states.shape == (2, 5, model.state_size)
    assert torch.equal(states[:, 0], model(warmup)[1][:, -1])
    # Step by step, as closed_loop calls them: a readout of the stacked (B, T, S) states may take
    # another matmul kernel and differ in the last bit on some CPUs.
    for k in range(5):
        assert torch.equal(predictions[:, k], model.readout(states[:, k]))
    for k in range(4):
        assert torch.equal(states[:, k + 1], model.step(predictions[:, k], states[:, k]))


def test_closed_loop_needs_matching_input_and_output():
    model = make("gru", {}, output_size=2)
    with pytest.raises(ValueError, match="output_size == input_size"):
        closed_loop(model, torch.zeros(1, 3, 3, dtype=torch.float64), 2)


def test_unknown_family_and_option():
    with pytest.raises(ValueError, match="unknown model family"):
        make("transformer", {})
    with pytest.raises(TypeError):
        make("gru", {"g": 1.0})
    with pytest.raises(ValueError, match="alpha"):
        make("leaky", {"alpha": 1.5})
