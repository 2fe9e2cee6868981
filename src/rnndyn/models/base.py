"""The contract every recurrent model of the study fulfils, and generator-driven initialisation.

A model is a discrete-time dynamical system ``s_{t+1} = F(s_t, x_{t+1})`` with a linear read-out
``y_t = C h_t + d``, where ``h_t`` is the hidden part of the full state ``s_t`` (for the LSTM the
full state is the concatenation ``(h_t, c_t)``; for every other family ``s_t = h_t``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize


class RecurrentModel(nn.Module):
    """Base class: read-out, initial state and the ``forward``/``step`` contract.

    Subclasses implement :meth:`trajectory` (the whole teacher-forced trajectory, as fast as the
    available kernels allow) and :meth:`step` (one step of the map on the full state, written in
    plain differentiable tensor operations so that autograd Jacobians of it are the Jacobians of
    the dynamics). The two agree to floating-point round-off. :meth:`step_jacobians` returns the
    step with its Jacobians (analytic in every family of the registry; autodiff here), for the
    Lyapunov spectra of :mod:`rnndyn.analysis.network_lyapunov`.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        Dimensions of the input ``x``, the hidden state ``h`` and the output ``y``.
    state_size : int
        Dimension of the full state (``hidden_size``, or ``2 * hidden_size`` for the LSTM).
    readout_bias : bool
        Whether the read-out has the offset ``d``.
    dtype : torch.dtype
        Floating-point type of every parameter.
    generator : torch.Generator
        Source of the read-out initialisation: ``C ~ U(-1/sqrt(N), 1/sqrt(N))``, ``d = 0``.
    """

    def __init__(
        self,
        *,
        input_size: int,
        hidden_size: int,
        output_size: int,
        state_size: int,
        readout_bias: bool,
        dtype: torch.dtype,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.state_size = state_size
        self.output_layer = allocate(
            nn.Linear, hidden_size, output_size, bias=readout_bias, dtype=dtype
        )
        uniform_(self.output_layer.weight, hidden_size**-0.5, generator)
        if readout_bias:
            nn.init.zeros_(self.output_layer.bias)

    def initial_state(self, batch: int) -> torch.Tensor:
        """Zero state of shape ``(batch, state_size)`` on the model's device and dtype."""
        reference = self.output_layer.weight
        return reference.new_zeros(batch, self.state_size)

    def readout(self, state: torch.Tensor) -> torch.Tensor:
        """Output ``y = C h + d`` of full states ``(..., state_size)`` -> ``(..., output_size)``."""
        return self.output_layer(state[..., : self.hidden_size])

    def trajectory(self, x: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced run from full state ``h0`` (B, state_size) on inputs (B, T, input_size).

        Returns the hidden states ``(B, T, hidden_size)`` and the full states
        ``(B, T, state_size)`` (the same tensor unless the state holds more than ``h``).
        """
        raise NotImplementedError

    def step(self, x_t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """One step of the map: input ``(B, input_size)``, state ``(B, state_size)`` -> next state.

        Families with a parametrised recurrent matrix recompute it on every call; wrap repeated
        calls in ``torch.nn.utils.parametrize.cached()`` (as :func:`closed_loop` does).
        """
        raise NotImplementedError

    def step_jacobians(
        self, x_t: torch.Tensor, state: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step of the map and its Jacobians with respect to the state and to the input.

        Parameters
        ----------
        x_t : Tensor, shape (B, input_size)
        state : Tensor, shape (B, state_size)

        Returns
        -------
        next_state : Tensor, shape (B, state_size)
            ``step(x_t, state)``.
        state_jacobian : Tensor, shape (B, state_size, state_size)
            ``∂ step / ∂ state``.
        input_jacobian : Tensor, shape (B, state_size, input_size)
            ``∂ step / ∂ x``.

        Notes
        -----
        What a Lyapunov QR iteration needs (:mod:`rnndyn.analysis.network_lyapunov`): the tangent
        map of a driven step is ``state_jacobian``, that of a closed-loop step
        ``state_jacobian + input_jacobian C`` (``C`` the read-out, on the hidden part). The batch
        dimension may hold many time steps at once, so that the Jacobians of a whole stretch of a
        trajectory are formed in a few large operations instead of a few dozen small ones per step.

        Forward-mode autodiff (``torch.func.jacfwd``, vectorised over the batch) here; every family
        of the registry overrides it with the analytic Jacobians, formed from its weights by
        element-wise scalings (the same numbers to round-off). Families with a parametrised
        recurrent matrix recompute it on every call unless called inside
        ``torch.nn.utils.parametrize.cached()``.
        """
        def single(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
            return self.step(x.unsqueeze(0), s.unsqueeze(0)).squeeze(0)

        with parametrize.cached():
            # As in closed_loop_jacobian: fill any parametrisation cache outside the transforms.
            next_state = self.step(x_t, state)
            input_jacobian, state_jacobian = torch.func.vmap(torch.func.jacfwd(single, argnums=(0, 1)))(
                x_t, state
            )
        return next_state, state_jacobian, input_jacobian

    def forward(
        self, x: torch.Tensor, h0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced run.

        Parameters
        ----------
        x : Tensor, shape (B, T, input_size)
        h0 : Tensor, shape (B, state_size), optional
            Initial full state; zeros when omitted.

        Returns
        -------
        y : Tensor, shape (B, T, output_size)
            Read-out of every state.
        states : Tensor, shape (B, T, state_size)
            ``states[:, t]`` is the full state after consuming ``x[:, t]``.
        """
        if h0 is None:
            h0 = self.initial_state(x.shape[0])
        hidden, states = self.trajectory(x, h0)
        # Read out from the hidden states themselves, not from a slice of the full states, so
        # that the loss on y never back-propagates into the (unused) rest of the state.
        return self.output_layer(hidden), states

    def closed_loop_jacobian(self, state: torch.Tensor) -> torch.Tensor:
        """Jacobians of the autonomous map ``s -> step(readout(s), s)`` at states ``(N, S)``.

        Returns ``(N, S, S)``, ``S = state_size``: the map a closed-loop run iterates, whose
        Jacobian products set how gradients grow along a free-running trajectory. Autograd
        (``torch.func``) here; families with a cheap analytic form override it. Needs
        ``output_size == input_size``.
        """
        def autonomous(s: torch.Tensor) -> torch.Tensor:
            return self.step(self.readout(s), s)

        with parametrize.cached():
            # One plain call fills the cache of any parametrised weight outside torch.func's
            # transforms, which must not store their own wrapped tensors in it.
            autonomous(state[:1])
            return torch.func.vmap(torch.func.jacrev(autonomous))(state)

    def outputs(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced outputs ``y`` (B, T, output_size) alone: ``forward(x, h0)[0]``.

        Families whose full state is more than what the fused kernel returns (the LSTM's cell
        state) skip assembling it here; the trainer uses this method.
        """
        return self(x, h0)[0]


def allocate(module_class: type[nn.Module], *args, **kwargs) -> nn.Module:
    """Build a module with uninitialised parameters on the CPU.

    The constructors of ``nn.Linear``, ``nn.RNN`` etc. initialise from the global RNG; built on
    the meta device they draw nothing, and every value is then set from the caller's generator.
    """
    return module_class(*args, device="meta", **kwargs).to_empty(device="cpu")


def uniform_(tensor: torch.Tensor, bound: float, generator: torch.Generator) -> None:
    """Fill ``tensor`` with U(-bound, bound) drawn in float64 from ``generator``.

    Drawing in float64 and casting makes a float32 model the rounding of the float64 model built
    from the same generator state.
    """
    values = torch.empty(tensor.shape, dtype=torch.float64)
    values.uniform_(-bound, bound, generator=generator)
    with torch.no_grad():
        tensor.copy_(values)


def haar_orthogonal(n: int, generator: torch.Generator) -> torch.Tensor:
    """Orthogonal matrix ``(n, n)`` (float64) distributed by the Haar measure on O(n).

    QR of a standard Gaussian matrix with the signs of ``diag(R)`` moved into ``Q``
    (Mezzadri 2007, "How to generate random matrices from the classical compact groups",
    Notices AMS 54:592).
    """
    gaussian = torch.randn(n, n, dtype=torch.float64, generator=generator)
    q, r = torch.linalg.qr(gaussian)
    return q * torch.sign(torch.diagonal(r))
