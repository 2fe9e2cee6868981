"""Shared fixtures of the tests of rnndyn.training: small models, a learnable sequence task, and
`train` pinned to the CPU."""

import math

import torch

from rnndyn.models import build_model
from rnndyn.training import train

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
