"""String-keyed registry of the study's RNN families and the factory :func:`build_model`.

A config names a family (``"vanilla"``, ``"lstm"``, ...) and its options; :data:`MODELS` maps the
name to a builder, as ``torchdiffeq`` maps solver names to solvers. Every random initial value is
drawn from the ``torch.Generator`` passed in (a CPU generator), never from the global RNG.
"""

from __future__ import annotations

from typing import Callable

import torch

from rnndyn.models.base import RecurrentModel, haar_orthogonal
from rnndyn.models.elman import ElmanRNN, Nonlinearity
from rnndyn.models.gated import GRUModel, LSTMModel
from rnndyn.models.plrnn import ShallowPLRNN
from rnndyn.systems.random_rnn import gaussian_weight


def _vanilla(
    *, input_size, hidden_size, output_size, generator, dtype, g: float = 1.0
) -> RecurrentModel:
    """``h <- tanh(W h + U x + b)`` with ``W ~ N(0, g²/N)``."""
    return ElmanRNN(
        input_size=input_size,
        hidden_size=hidden_size,
        output_size=output_size,
        recurrent_weight=gaussian_weight(hidden_size, g, generator),
        nonlinearity="tanh",
        alpha=1.0,
        bias=True,
        readout_bias=True,
        constraint=None,
        generator=generator,
        dtype=dtype,
    )


def _leaky(
    *, input_size, hidden_size, output_size, generator, dtype, alpha: float = 0.1, g: float = 1.0
) -> RecurrentModel:
    """``h <- (1 - alpha) h + alpha tanh(W h + U x + b)`` with ``W ~ N(0, g²/N)``."""
    return ElmanRNN(
        input_size=input_size,
        hidden_size=hidden_size,
        output_size=output_size,
        recurrent_weight=gaussian_weight(hidden_size, g, generator),
        nonlinearity="tanh",
        alpha=alpha,
        bias=True,
        readout_bias=True,
        constraint=None,
        generator=generator,
        dtype=dtype,
    )


def _orthogonal(
    *, input_size, hidden_size, output_size, generator, dtype, nonlinearity: Nonlinearity = "tanh"
) -> RecurrentModel:
    """``h <- phi(W h + U x + b)`` with ``W`` orthogonal at all times, Haar-distributed at start."""
    return ElmanRNN(
        input_size=input_size,
        hidden_size=hidden_size,
        output_size=output_size,
        recurrent_weight=haar_orthogonal(hidden_size, generator),
        nonlinearity=nonlinearity,
        alpha=1.0,
        bias=True,
        readout_bias=True,
        constraint="orthogonal",
        generator=generator,
        dtype=dtype,
    )


def _spectral(
    *, input_size, hidden_size, output_size, generator, dtype, g: float = 1.0
) -> RecurrentModel:
    """``h <- tanh(W h + U x + b)``, ``W = V / max(1, ||V||_2)``, ``V ~ N(0, g²/N)`` at start."""
    return ElmanRNN(
        input_size=input_size,
        hidden_size=hidden_size,
        output_size=output_size,
        recurrent_weight=gaussian_weight(hidden_size, g, generator),
        nonlinearity="tanh",
        alpha=1.0,
        bias=True,
        readout_bias=True,
        constraint="spectral",
        generator=generator,
        dtype=dtype,
    )


def _linear(
    *, input_size, hidden_size, output_size, generator, dtype, g: float = 0.5
) -> RecurrentModel:
    """``h <- W h + U x``, ``y = C h`` (no offsets): the form of the steady-state Kalman
    predictor. ``W ~ N(0, g²/N)``; the default g = 0.5 starts the map stable (rho(W) ~ g)."""
    return ElmanRNN(
        input_size=input_size,
        hidden_size=hidden_size,
        output_size=output_size,
        recurrent_weight=gaussian_weight(hidden_size, g, generator),
        nonlinearity="linear",
        alpha=1.0,
        bias=False,
        readout_bias=False,
        constraint=None,
        generator=generator,
        dtype=dtype,
    )


def _lstm(*, input_size, hidden_size, output_size, generator, dtype) -> RecurrentModel:
    """LSTM; full state ``(h, c)`` of size ``2 * hidden_size``."""
    return LSTMModel(
        input_size=input_size,
        hidden_size=hidden_size,
        output_size=output_size,
        generator=generator,
        dtype=dtype,
    )


def _gru(*, input_size, hidden_size, output_size, generator, dtype) -> RecurrentModel:
    """GRU."""
    return GRUModel(
        input_size=input_size,
        hidden_size=hidden_size,
        output_size=output_size,
        generator=generator,
        dtype=dtype,
    )


def _shplrnn(
    *, input_size, hidden_size, output_size, generator, dtype, hidden_width: int = 100
) -> RecurrentModel:
    """Clipped shallow PLRNN (Hess et al. 2023) with latent dimension ``hidden_size`` and a
    shallow layer of ``hidden_width`` units (default 100, the authors' public code's)."""
    return ShallowPLRNN(
        input_size=input_size,
        hidden_size=hidden_size,
        output_size=output_size,
        hidden_width=hidden_width,
        generator=generator,
        dtype=dtype,
    )


MODELS: dict[str, Callable[..., RecurrentModel]] = {
    "vanilla": _vanilla,
    "leaky": _leaky,
    "orthogonal": _orthogonal,
    "spectral": _spectral,
    "lstm": _lstm,
    "gru": _gru,
    "linear": _linear,
    "shplrnn": _shplrnn,
}


def build_model(
    name: str,
    *,
    input_size: int,
    hidden_size: int,
    output_size: int,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
    **options,
) -> RecurrentModel:
    """Build an RNN of family ``name`` with every initial value drawn from ``generator``.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`: ``"vanilla"`` (option ``g``), ``"leaky"`` (``alpha``, ``g``),
        ``"orthogonal"`` (``nonlinearity`` ``"tanh"`` | ``"linear"``), ``"spectral"`` (``g``),
        ``"lstm"``, ``"gru"``, ``"linear"`` (``g``), ``"shplrnn"`` (``hidden_width``).
    input_size, hidden_size, output_size : int
        Dimensions of ``x``, ``h`` and ``y``.
    generator : torch.Generator
        CPU generator; the same generator state gives the same model (a float32 model is the
        rounding of the float64 one).
    dtype : torch.dtype
        Parameter dtype (float64 for reference computations).
    **options
        Family options, listed above; an unknown option raises ``TypeError``.

    Returns
    -------
    RecurrentModel
        ``forward(x (B, T, in), h0=None) -> (y (B, T, out), states (B, T, state_size))``,
        ``step``, ``readout``, ``initial_state`` and ``state_size``.
    """
    try:
        builder = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model family {name!r}; known: {sorted(MODELS)}") from None
    return builder(
        input_size=input_size,
        hidden_size=hidden_size,
        output_size=output_size,
        generator=generator,
        dtype=dtype,
        **options,
    )
