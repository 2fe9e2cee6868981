"""Gated recurrent networks (LSTM, GRU) with the study's full-state interface.

``forward`` runs PyTorch's fused kernels; ``step`` writes the same cell equations (PyTorch's gate
order and conventions) in plain tensor operations so that autograd Jacobians of the full state
are available. The LSTM's full state is ``s = (h, c)``: the Jacobian of the map must include the
cell state, otherwise its Lyapunov spectrum is that of a projection, not of the dynamics.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnndyn.models.base import RecurrentModel, allocate, uniform_


class LSTMModel(RecurrentModel):
    """LSTM (Hochreiter & Schmidhuber 1997) with read-out ``y = C h + d``; state ``(h, c)``.

    Every weight and bias starts from U(-1/sqrt(N), 1/sqrt(N)) (PyTorch's default scheme) drawn
    from ``generator``.
    """

    def __init__(
        self,
        *,
        input_size: int,
        hidden_size: int,
        output_size: int,
        generator: torch.Generator,
        dtype: torch.dtype,
    ) -> None:
        super().__init__(
            input_size=input_size,
            hidden_size=hidden_size,
            output_size=output_size,
            state_size=2 * hidden_size,
            readout_bias=True,
            dtype=dtype,
            generator=generator,
        )
        self.lstm = allocate(nn.LSTM, input_size, hidden_size, batch_first=True, dtype=dtype)
        for parameter in self.lstm.parameters():
            uniform_(parameter, hidden_size**-0.5, generator)

    def _preactivations(self, x: torch.Tensor, h: torch.Tensor, rows: slice) -> torch.Tensor:
        lstm = self.lstm
        return F.linear(x, lstm.weight_ih_l0[rows], lstm.bias_ih_l0[rows]) + F.linear(
            h, lstm.weight_hh_l0[rows], lstm.bias_hh_l0[rows]
        )

    def step(self, x_t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        h, c = state.split(self.hidden_size, dim=-1)
        i, f, g, o = self._preactivations(x_t, h, slice(None)).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return torch.cat([h, c], dim=-1)

    def step_jacobians(
        self, x_t: torch.Tensor, state: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`step` and its Jacobians with respect to the full state ``(h, c)`` and the input.

        With ``c' = σ(f) c + σ(i) tanh(g)``, ``h' = σ(o) tanh(c')`` and the pre-activations
        ``a = W_ih x + W_hh h + b``: ``∂c'/∂(h, x) = Σ_{g ∈ i, f, g} diag(∂c'/∂a_g) W_g``,
        ``∂c'/∂c = diag(σ(f))``, ``∂h'/∂· = diag(σ'(o) tanh(c')) ∂a_o/∂· + diag(σ(o) tanh'(c')) ∂c'/∂·``,
        with ``σ' = σ(1 - σ)`` and ``tanh' = 1 - tanh²`` (``W_g`` the rows of gate ``g`` in
        ``[W_hh W_ih]``).
        """
        n, lstm = self.hidden_size, self.lstm
        h, c = state.split(n, dim=-1)
        i, f, g, o = self._preactivations(x_t, h, slice(None)).chunk(4, dim=-1)
        input_gate, forget_gate = torch.sigmoid(i), torch.sigmoid(f)
        candidate, output_gate = torch.tanh(g), torch.sigmoid(o)
        c_next = forget_gate * c + input_gate * candidate
        cell_activation = torch.tanh(c_next)
        h_next = output_gate * cell_activation

        cell_slopes = (
            candidate * input_gate * (1.0 - input_gate),
            c * forget_gate * (1.0 - forget_gate),
            input_gate * (1.0 - candidate * candidate),
        )
        through_cell = output_gate * (1.0 - cell_activation * cell_activation)
        output_slope = cell_activation * output_gate * (1.0 - output_gate)
        # Each gate's rows of [W_hh W_ih]: the derivatives with respect to h and to x together.
        weights = torch.cat([lstm.weight_hh_l0, lstm.weight_ih_l0], dim=-1).view(4, n, -1)
        d_cell = _row_scaled_sum(cell_slopes, weights[:3])
        d_hidden = torch.addcmul(output_slope.unsqueeze(-1) * weights[3], through_cell.unsqueeze(-1), d_cell)
        state_jacobian = state.new_zeros(state.shape[0], 2 * n, 2 * n)
        state_jacobian[:, :n, :n] = d_hidden[..., :n]
        state_jacobian[:, n:, :n] = d_cell[..., :n]
        state_jacobian[:, :n, n:].diagonal(dim1=-2, dim2=-1).copy_(through_cell * forget_gate)
        state_jacobian[:, n:, n:].diagonal(dim1=-2, dim2=-1).copy_(forget_gate)
        input_jacobian = torch.cat([d_hidden[..., n:], d_cell[..., n:]], dim=1)
        return torch.cat([h_next, c_next], dim=-1), state_jacobian, input_jacobian

    def _hidden(self, x: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
        h_init, c_init = h0.split(self.hidden_size, dim=-1)
        initial = (h_init.unsqueeze(0).contiguous(), c_init.unsqueeze(0).contiguous())
        hidden, _ = self.lstm(x, initial)
        return hidden

    def outputs(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        if h0 is None:
            h0 = self.initial_state(x.shape[0])
        return self.output_layer(self._hidden(x, h0))

    def trajectory(self, x: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self._hidden(x, h0)
        h_init, c_init = h0.split(self.hidden_size, dim=-1)
        # The fused kernel returns h_t only; c_t follows from c_t = f_t c_{t-1} + i_t g_t with the
        # gates recomputed in one batched product from (x_t, h_{t-1}); this roughly doubles the
        # cost of a forward pass, which is why `outputs` (used in training) skips it.
        h_previous = torch.cat([h_init.unsqueeze(1), hidden[:, :-1]], dim=1)
        n = self.hidden_size
        i, f, g = self._preactivations(x, h_previous, slice(0, 3 * n)).chunk(3, dim=-1)
        forget, drive = torch.sigmoid(f), torch.sigmoid(i) * torch.tanh(g)
        c, cells = c_init, []
        for t in range(x.shape[1]):
            c = forget[:, t] * c + drive[:, t]
            cells.append(c)
        return hidden, torch.cat([hidden, torch.stack(cells, dim=1)], dim=-1)


class GRUModel(RecurrentModel):
    """GRU (Cho et al. 2014) with read-out ``y = C h + d``; state ``h``.

    Initialisation as :class:`LSTMModel`.
    """

    def __init__(
        self,
        *,
        input_size: int,
        hidden_size: int,
        output_size: int,
        generator: torch.Generator,
        dtype: torch.dtype,
    ) -> None:
        super().__init__(
            input_size=input_size,
            hidden_size=hidden_size,
            output_size=output_size,
            state_size=hidden_size,
            readout_bias=True,
            dtype=dtype,
            generator=generator,
        )
        self.gru = allocate(nn.GRU, input_size, hidden_size, batch_first=True, dtype=dtype)
        for parameter in self.gru.parameters():
            uniform_(parameter, hidden_size**-0.5, generator)

    def _gates(
        self, x_t: torch.Tensor, state: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reset ``r``, update ``z``, candidate ``n`` and the recurrent part ``a_n^h`` of the
        candidate's pre-activation, in PyTorch's GRU conventions."""
        gru = self.gru
        input_r, input_z, input_n = F.linear(x_t, gru.weight_ih_l0, gru.bias_ih_l0).chunk(3, -1)
        hidden_r, hidden_z, hidden_n = F.linear(state, gru.weight_hh_l0, gru.bias_hh_l0).chunk(
            3, -1
        )
        reset = torch.sigmoid(input_r + hidden_r)
        update = torch.sigmoid(input_z + hidden_z)
        candidate = torch.tanh(input_n + reset * hidden_n)
        return reset, update, candidate, hidden_n

    def step(self, x_t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        _, update, candidate, _ = self._gates(x_t, state)
        return (1.0 - update) * candidate + update * state

    def step_jacobians(
        self, x_t: torch.Tensor, state: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`step` and its Jacobians with respect to the state and the input.

        With ``r = σ(a_r)``, ``z = σ(a_z)``, ``n = tanh(a_n^x + r a_n^h)`` and
        ``h' = (1 - z) n + z h``: ``∂h'/∂h = diag(z) + diag(∂h'/∂a_r) W_hr + diag(∂h'/∂a_z) W_hz
        + diag((1 - z)(1 - n²) r) W_hn`` with ``∂h'/∂a_r = (1 - z)(1 - n²) a_n^h r(1 - r)`` and
        ``∂h'/∂a_z = (h - n) z(1 - z)``; ``∂h'/∂x`` likewise with ``W_i·`` and ``(1 - z)(1 - n²)``
        for the candidate (the reset gate multiplies only the recurrent part).
        """
        gru = self.gru
        reset, update, candidate, hidden_n = self._gates(x_t, state)
        next_state = (1.0 - update) * candidate + update * state

        n = self.hidden_size
        through_candidate = (1.0 - update) * (1.0 - candidate * candidate)
        reset_slope = through_candidate * hidden_n * reset * (1.0 - reset)
        update_slope = (state - candidate) * update * (1.0 - update)
        state_jacobian = _row_scaled_sum(
            (reset_slope, update_slope, through_candidate * reset), gru.weight_hh_l0.view(3, n, n)
        )
        state_jacobian.diagonal(dim1=-2, dim2=-1).add_(update)
        input_jacobian = _row_scaled_sum(
            (reset_slope, update_slope, through_candidate), gru.weight_ih_l0.view(3, n, -1)
        )
        return next_state, state_jacobian, input_jacobian

    def trajectory(self, x: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden, _ = self.gru(x, h0.unsqueeze(0).contiguous())
        return hidden, hidden


def _row_scaled_sum(slopes: tuple[torch.Tensor, ...], weights: torch.Tensor) -> torch.Tensor:
    """``Σ_g diag(slopes[g]) weights[g]``: slopes ``(B, n)`` each, weights ``(G, n, m)`` -> ``(B, n, m)``.

    Accumulated in place (``addcmul_``) rather than as one broadcast product summed over ``G``,
    which would write and read back a ``(B, G, n, m)`` temporary: half the memory traffic.
    """
    total = slopes[0].unsqueeze(-1) * weights[0]
    for slope, weight in zip(slopes[1:], weights[1:]):
        total.addcmul_(slope.unsqueeze(-1), weight)
    return total
