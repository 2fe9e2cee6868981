"""Elman-type recurrent networks: vanilla, leaky, orthogonal, spectral-norm bounded and linear.

All five share one map,

    h_t = (1 - alpha) h_{t-1} + alpha * phi(W h_{t-1} + U x_t + b),   phi in {tanh, identity},

and differ in how ``W`` is initialised or constrained. The parameters live in an ``nn.RNN`` so
that the tanh, non-leaky case runs on PyTorch's fused RNN kernel (cuDNN on CUDA); the other cases
iterate :meth:`ElmanRNN.step`, so their ``forward`` and ``step`` are the same operations.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import orthogonal

from rnndyn.models.base import RecurrentModel, allocate, uniform_

Nonlinearity = Literal["tanh", "linear"]
Constraint = Literal["orthogonal", "spectral"]


class SpectralNormBound(nn.Module):
    """Parametrisation ``W = V / max(1, sigma_max(V))``, so that ``||W||_2 <= 1`` exactly.

    ``sigma_max`` is the exact largest singular value (an SVD, not power iteration as in
    ``torch.nn.utils.parametrizations.spectral_norm``), so the bound holds at every step, up to
    the round-off of one division. Bounding the spectral norm by one bounds every Jacobian
    ``diag(tanh') W`` of the tanh map by one, hence gradients cannot grow with the lag.
    """

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return v / torch.linalg.matrix_norm(v, ord=2).clamp(min=1.0)


class ElmanRNN(RecurrentModel):
    """Elman network ``h_t = (1 - alpha) h_{t-1} + alpha phi(W h_{t-1} + U x_t + b)``.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        Dimensions of ``x``, ``h`` and ``y = C h + d``.
    recurrent_weight : Tensor, shape (hidden_size, hidden_size)
        Initial ``W`` (for ``constraint="orthogonal"`` it must be orthogonal; for
        ``"spectral"`` it is the unconstrained ``V``).
    nonlinearity : {"tanh", "linear"}
        ``phi``.
    alpha : float
        Leak rate in (0, 1]; the unit's e-folding time is ``-1 / ln(1 - alpha)`` steps.
    bias : bool
        Whether ``b`` exists (it is initialised to zero).
    readout_bias : bool
        Whether ``d`` exists.
    constraint : {"orthogonal", "spectral"} or None
        ``"orthogonal"``: ``W`` stays orthogonal through PyTorch's matrix-exponential
        parametrisation (Lezcano-Casado & Martinez-Rubio 2019, ICML, "Cheap orthogonal
        constraints in neural networks"); ``"spectral"``: :class:`SpectralNormBound`.
    generator : torch.Generator
        Source of ``U ~ U(-1/sqrt(N), 1/sqrt(N))`` and of the read-out.
    dtype : torch.dtype
        Parameter dtype.
    """

    def __init__(
        self,
        *,
        input_size: int,
        hidden_size: int,
        output_size: int,
        recurrent_weight: torch.Tensor,
        nonlinearity: Nonlinearity,
        alpha: float,
        bias: bool,
        readout_bias: bool,
        constraint: Constraint | None,
        generator: torch.Generator,
        dtype: torch.dtype,
    ) -> None:
        if nonlinearity not in ("tanh", "linear"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'linear', got {nonlinearity!r}")
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
        super().__init__(
            input_size=input_size,
            hidden_size=hidden_size,
            output_size=output_size,
            state_size=hidden_size,
            readout_bias=readout_bias,
            dtype=dtype,
            generator=generator,
        )
        self.nonlinearity = nonlinearity
        self.alpha = float(alpha)
        self.rnn = allocate(
            nn.RNN, input_size, hidden_size, bias=bias, batch_first=True, dtype=dtype
        )
        uniform_(self.rnn.weight_ih_l0, hidden_size**-0.5, generator)
        with torch.no_grad():
            self.rnn.weight_hh_l0.copy_(recurrent_weight)
            if bias:
                self.rnn.bias_ih_l0.zero_()
                self.rnn.bias_hh_l0.zero_()
        if constraint == "orthogonal":
            # An orthogonal initial W becomes the trivialisation's base, so W starts exactly there.
            orthogonal(self.rnn, "weight_hh_l0", orthogonal_map="matrix_exp")
        elif constraint == "spectral":
            parametrize.register_parametrization(self.rnn, "weight_hh_l0", SpectralNormBound())
        elif constraint is not None:
            raise ValueError(f"unknown constraint {constraint!r}")

    @property
    def recurrent_weight(self) -> torch.Tensor:
        """The (constrained) recurrent matrix ``W``, shape (hidden_size, hidden_size)."""
        return self.rnn.weight_hh_l0

    @property
    def input_weight(self) -> torch.Tensor:
        """The input matrix ``U``, shape (hidden_size, input_size)."""
        return self.rnn.weight_ih_l0

    def step(self, x_t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        input_bias = getattr(self.rnn, "bias_ih_l0", None)
        recurrent_bias = getattr(self.rnn, "bias_hh_l0", None)
        drive = F.linear(x_t, self.rnn.weight_ih_l0, input_bias)
        drive = drive + F.linear(state, self.recurrent_weight, recurrent_bias)
        activation = torch.tanh(drive) if self.nonlinearity == "tanh" else drive
        if self.alpha == 1.0:
            return activation
        return (1.0 - self.alpha) * state + self.alpha * activation

    def step_jacobians(
        self, x_t: torch.Tensor, state: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`step` and its Jacobians (see the base class).

        ``∂h'/∂h = (1 - alpha) I + alpha diag(phi'(a)) W`` and ``∂h'/∂x = alpha diag(phi'(a)) U``,
        ``a`` the pre-activation, ``tanh' = 1 - tanh²``, ``phi' = 1`` for the linear map.
        """
        recurrent_weight = self.recurrent_weight
        input_weight = self.rnn.weight_ih_l0
        input_bias = getattr(self.rnn, "bias_ih_l0", None)
        recurrent_bias = getattr(self.rnn, "bias_hh_l0", None)
        drive = F.linear(x_t, input_weight, input_bias)
        drive = drive + F.linear(state, recurrent_weight, recurrent_bias)
        if self.nonlinearity == "tanh":
            activation = torch.tanh(drive)
            slope = (self.alpha * (1.0 - activation * activation)).unsqueeze(-1)
        else:
            activation = drive
            slope = drive.new_full(drive.shape + (1,), self.alpha)
        state_jacobian, input_jacobian = slope * recurrent_weight, slope * input_weight
        if self.alpha == 1.0:
            return activation, state_jacobian, input_jacobian
        leak = 1.0 - self.alpha
        state_jacobian.diagonal(dim1=-2, dim2=-1).add_(leak)
        return leak * state + self.alpha * activation, state_jacobian, input_jacobian

    def trajectory(self, x: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with parametrize.cached():
            if self.nonlinearity == "tanh" and self.alpha == 1.0:
                hidden, _ = self.rnn(x, h0.unsqueeze(0).contiguous())
                return hidden, hidden
            state, states = h0, []
            for t in range(x.shape[1]):
                state = self.step(x[:, t], state)
                states.append(state)
            hidden = torch.stack(states, dim=1)
            return hidden, hidden
