"""The clipped shallow PLRNN (shPLRNN), the dynamical-systems-reconstruction field's own model.

Hess, Monfared, Brenner & Durstewitz (2023), "Generalized teacher forcing for learning chaotic
dynamics", ICML 2023 (PMLR 202), eq. (3) and its clipped form: a latent state ``z`` of dimension
``M`` evolves by a linear auto-regressive term plus a one-hidden-layer piecewise-linear network of
width ``L``,

    z_{t+1} = A z_t + W1 [relu(W2 z_t + h2) - relu(W2 z_t)] + h1 + C x_{t+1},

with ``A`` diagonal, ``W1`` (M, L), ``W2`` (L, M). Each hidden unit's response
``relu(u + h2) - relu(u)`` is ``u`` clipped to the interval between 0 and ``h2``: the nonlinear
term is bounded by ``||W1|| ||h2||`` whatever the state, so for ``max|A| < 1`` every orbit driven by
bounded inputs stays bounded (the property the clipping buys; the unclipped shPLRNN
``A z + W1 relu(W2 z + h2) + h1`` can diverge).

Observation model and inputs
----------------------------
The paper's networks are autonomous; data enter by forcing the latent state, and the outputs are
read by an observation model: the ``Identity`` model (the first ``N`` latent units are the
observed ones, ``x_hat = [I 0] z``; used for their Lorenz-63 benchmarks with ``M = N``) or an
affine one (``x_hat = B z + b``, forcing signals ``B^+ (x - b)``). Here, as for every family of
the study (:class:`~rnndyn.models.base.RecurrentModel`), data enter as inputs, through ``C x``
(the term the public code keeps for external inputs), and leave through the learnt linear
read-out ``y = B z + d`` (:attr:`output_layer`). The identity observation model is the special case
``B = [I 0]``, ``d = 0`` (kept fixed). In closed loop the prediction is fed back, ``x = y``, and the
autonomous map is again a clipped shPLRNN with the linear part ``A + C B`` (diagonal plus rank
``N``) and offset ``h1 + C d``: the paper's model is the case ``C B = 0`` with ``A`` carrying the
whole linear part. How teacher forcing of the latent state maps to forcing of the inputs is
documented in :mod:`rnndyn.training.objectives`.

Initialisation (Hess et al. 2023, following the authors' public code DurstewitzLab/GTF-shPLRNN,
``src/models/initialization.jl`` and ``shallow_plrnn.jl``):

- ``A``: the diagonal of ``K / lambda_max(K)``, ``K = R^T R / M + I``, ``R`` standard Gaussian
  (M, M) (Talathi & Vartak 2016, "Improving performance of recurrent neural network with ReLU
  nonlinearity", arXiv:1511.03771): entries in (0, 1], about 0.4 for large ``M``;
- ``W1 ~ U(-1/sqrt(L), 1/sqrt(L))``, ``W2 ~ U(-1/sqrt(M), 1/sqrt(M))``,
  ``h2 ~ U(-1/sqrt(L), 1/sqrt(L))`` (the clipped form's thresholds; zero in the unclipped one),
  ``h1 = 0``;
- ``C`` Glorot-uniform, ``U(-sqrt(6 / (M + K)), sqrt(6 / (M + K)))``;
- read-out as every family (:class:`~rnndyn.models.base.RecurrentModel`), ``B ~ U(-1/sqrt(M),
  1/sqrt(M))``, ``d = 0``. (The public code's affine observation model draws ``B`` from a Kaiming
  normal and has no offset by default; its identity model is not learnt.)

The initial state is zero (the paper infers ``z_1`` from the first observation by inverting the
observation model; here the first input drives the state, as for every family).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnndyn.models.base import RecurrentModel, uniform_


SLOPE_SEGMENT = 16
"""Rows between restarts of :meth:`ShallowPLRNN.step_jacobians`' running sums from ``s = 0``. A
restart costs one term per active unit instead of one per changed slope, and each segment position
one in-place addition over all segments: 16 keeps both small for the 16-step stretches of
:mod:`rnndyn.analysis.network_lyapunov` (and the round-off of a running sum of a few dozen
rank-one terms near 1e-15)."""


def talathi_vartak_diagonal(m: int, generator: torch.Generator) -> torch.Tensor:
    """Diagonal of ``K / lambda_max(K)``, ``K = R^T R / m + I``, ``R`` standard Gaussian (m, m).

    Float64 values in (0, 1] (Talathi & Vartak 2016, arXiv:1511.03771, their positive-definite
    initialisation of a ReLU RNN's recurrent matrix; the shPLRNN keeps its diagonal as ``A``).
    """
    r = torch.randn(m, m, dtype=torch.float64, generator=generator)
    k = r.T @ r / m + torch.eye(m, dtype=torch.float64)
    return torch.diagonal(k) / torch.linalg.eigvalsh(k).max()


class ShallowPLRNN(RecurrentModel):
    """Clipped shallow PLRNN ``z <- A z + W1 [relu(W2 z + h2) - relu(W2 z)] + h1 + C x``.

    See the module docstring for the model, its observation model and its initialisation.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        Dimensions of ``x``, of the latent state ``z`` (``M``) and of ``y = B z + d``.
    hidden_width : int
        Width ``L`` of the shallow layer (the public code's default is 100).
    generator : torch.Generator
        Source of every initial value (drawn in float64, then cast).
    dtype : torch.dtype
        Parameter dtype.

    Attributes
    ----------
    a : Parameter (M,)
        Diagonal of ``A``.
    w1 : Parameter (M, L)
    w2 : Parameter (L, M)
    h1 : Parameter (M,)
    h2 : Parameter (L,)
    c : Parameter (M, input_size)
        Input matrix ``C``.
    """

    def __init__(
        self,
        *,
        input_size: int,
        hidden_size: int,
        output_size: int,
        hidden_width: int,
        generator: torch.Generator,
        dtype: torch.dtype,
    ) -> None:
        if hidden_width < 1:
            raise ValueError(f"hidden_width must be >= 1, got {hidden_width}")
        super().__init__(
            input_size=input_size,
            hidden_size=hidden_size,
            output_size=output_size,
            state_size=hidden_size,
            readout_bias=True,
            dtype=dtype,
            generator=generator,
        )
        m, width = hidden_size, hidden_width
        self.hidden_width = width
        self.a = nn.Parameter(talathi_vartak_diagonal(m, generator).to(dtype))
        self.w1 = nn.Parameter(torch.empty(m, width, dtype=dtype))
        self.w2 = nn.Parameter(torch.empty(width, m, dtype=dtype))
        self.h1 = nn.Parameter(torch.zeros(m, dtype=dtype))
        self.h2 = nn.Parameter(torch.empty(width, dtype=dtype))
        self.c = nn.Parameter(torch.empty(m, input_size, dtype=dtype))
        uniform_(self.w1, width**-0.5, generator)
        uniform_(self.w2, m**-0.5, generator)
        uniform_(self.h2, width**-0.5, generator)
        uniform_(self.c, (6.0 / (m + input_size)) ** 0.5, generator)

    def _advance(self, drive: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """The map with the input term ``C x`` already computed as ``drive``."""
        u = F.linear(state, self.w2)
        clipped = torch.relu(u + self.h2) - torch.relu(u)
        return self.a * state + F.linear(clipped, self.w1, self.h1) + drive

    def step(self, x_t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return self._advance(F.linear(x_t, self.c), state)

    def step_jacobians(
        self, x_t: torch.Tensor, state: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`step`, its state Jacobian (:meth:`jacobian`) and its input Jacobian ``C``.

        The state Jacobian ``A + W1 diag(s) W2`` depends on the state only through the slopes
        ``s ∈ {-1, 0, 1}^L``, which change only where a unit crosses a kink. Rows are therefore
        taken in order as differences, ``J_r = J_{r-1} + Σ_l (s_r - s_{r-1})_l w1_l w2_lᵀ``, one
        sparse-times-dense product over the changed slopes (restarted from ``s = 0`` every
        :data:`SLOPE_SEGMENT` rows, which bounds the round-off of the running sums). Exact for
        any rows; it costs ``M²`` per changed slope instead of the dense ``M × L × M`` per row, so
        it pays when consecutive rows are consecutive states of one trajectory (a few kinks
        crossed per step: about 2 of 100 for a freshly initialised 32-unit network driven by Lorenz
        at dt = 0.01).
        """
        n, m = state.shape[0], self.hidden_size
        u = F.linear(state, self.w2)
        slopes = (u + self.h2 > 0).to(state.dtype) - (u > 0).to(state.dtype)
        previous = torch.zeros_like(slopes)
        previous[1:] = slopes[:-1]
        previous[::SLOPE_SEGMENT] = 0.0
        # Σ_l Δs_l w1_l w2_lᵀ as (rows, L) @ (L, M·M): each unit's rank-one term w1_l w2_lᵀ, flattened.
        rank_one = (self.w1.T.unsqueeze(-1) * self.w2.unsqueeze(-2)).reshape(-1, m * m)
        increments = torch.sparse.mm((slopes - previous).to_sparse(), rank_one)
        running = F.pad(increments, (0, 0, 0, -n % SLOPE_SEGMENT)).view(-1, SLOPE_SEGMENT, m * m)
        # In-place running sums, one segment position at a time (torch.cumsum is several times
        # slower than these passes on CPU).
        for position in range(1, SLOPE_SEGMENT):
            running[:, position].add_(running[:, position - 1])
        state_jacobian = running.view(-1, m, m)[:n]
        state_jacobian.diagonal(dim1=-2, dim2=-1).add_(self.a)
        input_jacobian = self.c.expand(n, -1, -1)
        return self.step(x_t, state), state_jacobian, input_jacobian

    def trajectory(self, x: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # No fused kernel exists for this map: iterate it, with the input term of every step in
        # one batched product.
        drives = F.linear(x, self.c)
        state, states = h0, []
        for t in range(x.shape[1]):
            state = self._advance(drives[:, t], state)
            states.append(state)
        hidden = torch.stack(states, dim=1)
        return hidden, hidden

    def jacobian(self, state: torch.Tensor) -> torch.Tensor:
        """``d step(x, z) / d z`` at states ``(B, M)`` -> ``(B, M, M)`` (the same for every ``x``).

        ``A + W1 diag(1[W2 z + h2 > 0] - 1[W2 z > 0]) W2``: each hidden unit passes its slope
        only inside its clipping interval. At a kink the one-sided slope chosen is autograd's
        (relu'(0) = 0), so this equals the autograd Jacobian of :meth:`step` everywhere.
        """
        u = F.linear(state, self.w2)
        slopes = (u + self.h2 > 0).to(state.dtype) - (u > 0).to(state.dtype)
        through = (self.w1 * slopes.unsqueeze(-2)) @ self.w2
        return torch.diag_embed(self.a.expand_as(state)) + through

    def closed_loop_jacobian(self, state: torch.Tensor) -> torch.Tensor:
        """Jacobian of the autonomous map ``z -> step(readout(z), z)``: ``J(z) + C B``."""
        coupling = self.c @ self.output_layer.weight
        return self.jacobian(state) + coupling
