"""Tests of rnndyn.models.plrnn: the clipped shallow PLRNN (Hess et al. 2023)."""

import numpy as np
import pytest
import torch
import xarray as xr

from rnndyn.models import ShallowPLRNN, build_model, closed_loop
from rnndyn.models.base import RecurrentModel
from rnndyn.models.trained import load_network, network_store

torch.set_num_threads(1)


def make(*, seed=0, dtype=torch.float64, hidden_size=6, hidden_width=20, size=3):
    return build_model(
        "shplrnn",
        input_size=size,
        hidden_size=hidden_size,
        output_size=size,
        generator=torch.Generator().manual_seed(seed),
        dtype=dtype,
        hidden_width=hidden_width,
    )


def test_initialisation_follows_the_paper():
    model = make(hidden_size=50, hidden_width=80)
    assert isinstance(model, ShallowPLRNN) and model.hidden_width == 80
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert shapes == {
        "output_layer.weight": (3, 50),
        "output_layer.bias": (3,),
        "a": (50,),
        "w1": (50, 80),
        "w2": (80, 50),
        "h1": (50,),
        "h2": (80,),
        "c": (50, 3),
    }
    a = model.a.detach()
    # diag(K) / lambda_max(K) of a positive-definite K: in (0, 1]; about 2 / 5 = 0.4 for a
    # large square R (diag(K) ~ 2, lambda_max(K) ~ 1 + 4 by Marchenko-Pastur).
    assert (a > 0).all() and (a <= 1).all() and 0.3 < a.mean().item() < 0.5
    assert torch.equal(model.h1.detach(), torch.zeros(50, dtype=torch.float64))
    for name, bound in [
        ("w1", 80**-0.5),
        ("w2", 50**-0.5),
        ("h2", 80**-0.5),
        ("c", (6 / 53) ** 0.5),
    ]:
        values = getattr(model, name).detach()
        assert values.abs().max() <= bound and values.abs().max() > 0.9 * bound, name
    assert (
        build_model(
            "shplrnn", input_size=1, hidden_size=2, output_size=1, generator=torch.Generator()
        ).hidden_width
        == 100
    )  # public code's default
    with pytest.raises(ValueError, match="hidden_width"):
        make(hidden_width=0)


def test_step_is_the_clipped_map():
    model = make()
    generator = torch.Generator().manual_seed(1)
    z = torch.randn(4, 6, dtype=torch.float64, generator=generator)
    x = torch.randn(4, 3, dtype=torch.float64, generator=generator)
    w1, w2, h1, h2 = (p.detach() for p in (model.w1, model.w2, model.h1, model.h2))
    u, zero = z @ w2.T, torch.zeros((), dtype=torch.float64)
    # relu(u + h2) - relu(u) is a ramp of slope 1 clipped between 0 and h2: for h2 >= 0 it is
    # u + h2 clipped to [0, h2]; for h2 < 0 it is -u clipped to [h2, 0].
    clipped = torch.where(
        h2 >= 0,
        torch.minimum(torch.maximum(u + h2, zero), h2),
        torch.minimum(torch.maximum(-u, h2), zero),
    )
    expected = model.a.detach() * z + clipped @ w1.T + h1 + x @ model.c.detach().T
    torch.testing.assert_close(model.step(x, z), expected, rtol=0, atol=1e-14)


def test_clipping_bounds_every_orbit():
    """For max|A| < 1 and bounded inputs, ||z_t||_inf <= (||W1||_inf max|h2| + max|h1| +
    ||C||_inf max|x|) / (1 - max|A|) after the initial transient, whatever the initial state;
    the unclipped map with the same weights runs away."""
    model = make(hidden_size=6, hidden_width=20)
    with torch.no_grad():
        model.a.clamp_(max=0.9)
        model.w1.mul_(20.0)  # a strongly expanding nonlinear term
        model.h1.fill_(0.5)
    generator = torch.Generator().manual_seed(2)
    scale = 1e3  # large inputs and a large initial state
    x = scale * torch.randn(5, 400, 3, dtype=torch.float64, generator=generator)
    z0 = 1e6 * torch.randn(5, 6, dtype=torch.float64, generator=generator)
    _, states = model(x, z0)
    a = model.a.detach().abs().max()
    bound = (
        (model.w1.detach().abs().sum(1) * model.h2.detach().abs().max()).max()
        + model.h1.detach().abs().max()
        + model.c.detach().abs().sum(1).max() * x.abs().max()
    ) / (1 - a)
    # ||z_t|| <= a^t ||z_0|| + bound: after 400 steps the transient a^t 1e6... is gone.
    transient = a ** torch.arange(1, 401, dtype=torch.float64) * z0.abs().max()
    assert (states.abs().amax(dim=(0, 2)) <= transient + bound).all()
    assert states[:, -1].abs().max() < bound

    # The unclipped shPLRNN z <- A z + W1 relu(W2 z + h2) + h1 with the same weights diverges.
    z = torch.ones(1, 6, dtype=torch.float64)
    with torch.no_grad():
        for _ in range(200):
            z = model.a * z + torch.relu(z @ model.w2.T + model.h2) @ model.w1.T + model.h1
    assert not torch.isfinite(z).all() or z.abs().max() > 1e6 * bound


def test_analytic_jacobian_matches_autograd():
    model = make(hidden_size=7, hidden_width=15)
    states = torch.randn(6, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    x = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    autograd = torch.func.vmap(torch.func.jacrev(model.step, argnums=1))(x, states)
    torch.testing.assert_close(model.jacobian(states), autograd, rtol=0, atol=1e-15)
    # At a kink (W2 z = 0 for some unit) autograd takes relu'(0) = 0, and so does `jacobian`.
    kink = torch.zeros(1, 7, dtype=torch.float64)
    kink_autograd = torch.func.jacrev(model.step, argnums=1)(x[:1], kink)[0, :, 0]
    torch.testing.assert_close(model.jacobian(kink)[0], kink_autograd, rtol=0, atol=1e-15)
    # The closed-loop map's Jacobian J + C B, against the generic autograd one.
    generic = RecurrentModel.closed_loop_jacobian(model, states)
    torch.testing.assert_close(model.closed_loop_jacobian(states), generic, rtol=0, atol=1e-14)


def test_store_round_trip():
    # float32, as the trainer's networks: load_network rebuilds in float32, then casts.
    model = make(hidden_size=5, hidden_width=9, dtype=torch.float32)
    history = xr.Dataset(
        {"loss": ("epoch", [1.0, 0.5]), "val_loss": ("epoch", [1.1, 0.6])}, coords={"epoch": [1, 2]}
    )
    build = {
        "arch": "shplrnn",
        "input_size": 3,
        "hidden_size": 5,
        "output_size": 3,
        "hidden_width": 9,
    }
    identity = {"stage": "test", "arch": "shplrnn", "replicate": 0}
    ds = network_store(
        model, history, build=build, identity=identity, status="completed", device="cpu"
    )
    loaded = load_network(ds)
    assert isinstance(loaded, ShallowPLRNN) and loaded.hidden_width == 9
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value.double()), name
    warmup = torch.randn(2, 4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    assert torch.equal(closed_loop(loaded, warmup, 6)[0], closed_loop(model.double(), warmup, 6)[0])
    np.testing.assert_array_equal(ds["param.w1"].values, model.w1.detach().numpy())
