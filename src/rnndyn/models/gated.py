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

    def step(self, x_t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        gru = self.gru
        input_r, input_z, input_n = F.linear(x_t, gru.weight_ih_l0, gru.bias_ih_l0).chunk(3, -1)
        hidden_r, hidden_z, hidden_n = F.linear(state, gru.weight_hh_l0, gru.bias_hh_l0).chunk(
            3, -1
        )
        reset = torch.sigmoid(input_r + hidden_r)
        update = torch.sigmoid(input_z + hidden_z)
        candidate = torch.tanh(input_n + reset * hidden_n)
        return (1.0 - update) * candidate + update * state

    def trajectory(self, x: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden, _ = self.gru(x, h0.unsqueeze(0).contiguous())
        return hidden, hidden
