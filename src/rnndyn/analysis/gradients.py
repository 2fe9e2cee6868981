"""Gradient norm against lag in nonlinear recurrent networks, and its growth rate per step.

Backpropagation through time sends the gradient of a loss read out at step ``T`` back to the
state at step ``T − ℓ`` through the product of ``ℓ`` Jacobians,
``∂L/∂s_{T−ℓ} = (J_{T−ℓ+1} ⋯ J_T)ᵀ ∂L/∂s_T`` with ``J_t = ∂s_t/∂s_{t−1}`` (``diag(f′) W`` for
``s ← f(W s + u)``). For a product of Jacobians along a trajectory, Oseledets' multiplicative
ergodic theorem gives ``(1/ℓ) log‖∂L/∂s_{T−ℓ}‖ → λ1`` (the largest Lyapunov exponent) for almost
every read-out direction, so the gradient explodes when λ1 > 0 and vanishes when λ1 < 0.

Why average the log-norm over trajectories, and fit on long lags after a transient
-----------------------------------------------------------------------------------
The statement holds for ``log‖·‖`` and only asymptotically. (i) For a finite lag,
``log‖∂L/∂s_{T−ℓ}‖ = ℓ λ1 + C + fluctuation``: the offset ``C`` is the log of the read-out's
projection on the leading (backward) Lyapunov vector and of the non-normal transient of the
product, so the slope over short lags is biased; only lags past this transient carry the rate. (ii)
The local stretching rates along a trajectory fluctuate, so the log-norm of one trajectory is a
random walk with drift λ1 and a spread that grows like ``√ℓ``; averaging the log-norms over
independent trajectories (the ergodic average) leaves the drift. The average must be taken of the
log: ``log E‖·‖`` grows at the generalised exponent ``L(1) ≥ λ1``, dominated by rare
trajectories whose products stretch most (Crisanti, Paladin & Vulpiani, "Products of Random
Matrices in Statistical Physics", Springer 1993, ch. 2). :func:`gradient_growth_rate` therefore
fits a straight line to each trajectory's ``log‖·‖`` over lags ``ℓ ≥ min_lag`` and averages the
slopes (the same number as the slope of the mean log-norm), with their standard error.

References
----------
.. [1] V. I. Oseledets, "A multiplicative ergodic theorem", Trans. Moscow Math. Soc. 19, 197–231 (1968).
.. [2] Y. Bengio, P. Simard, P. Frasconi, "Learning long-term dependencies with gradient descent is
   difficult", IEEE Trans. Neural Netw. 5, 157–166 (1994).
.. [3] R. Pascanu, T. Mikolov, Y. Bengio, "On the difficulty of training recurrent neural networks",
   ICML (2013).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch


def bptt_log_gradient_norms(
    step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    h0: torch.Tensor,
    inputs: Sequence[torch.Tensor],
    readout: torch.Tensor,
) -> np.ndarray:
    """``log‖∂L/∂s_{T−ℓ}‖`` for ``ℓ = 0 … T``, by backpropagation through time (autograd).

    The states ``s_t = step(inputs[t−1], s_{t−1})`` are computed from ``s_0 = h0`` for
    ``T = len(inputs)`` steps; the loss is ``L = Σ_batch readout · s_T``, linear in the final state,
    so each gradient is the read-out pushed back through the product of the Jacobians of the
    steps in between: its norm isolates that product. One backward pass gives every lag.

    Parameters
    ----------
    step
        ``(x_t, s) → s_next`` on states ``(..., d)``, each batch element independent of the others
        (e.g. ``lambda x, s: model.step(x, s)``; wrap parametrised models in
        ``torch.nn.utils.parametrize.cached()``).
    h0
        ``(..., d)`` initial states (detached here).
    inputs
        ``T`` per-step inputs, each accepted by ``step`` (a tensor ``(T, ...)`` iterates over its
        first dim).
    readout
        ``(d,)`` read-out vector ``c`` (unit norm gives ``‖∂L/∂s_T‖ = 1`` at lag 0).

    Returns
    -------
    numpy.ndarray
        ``(..., T + 1)`` natural logs of the gradient norms, float64, lag ``ℓ`` at index ``ℓ``;
        ``-inf`` where a gradient is exactly zero or underflows. The dtype of ``h0`` sets the
        range: in float64 norms within ``e^{±700}`` are representable (``|λ1| T < 700``).
    """
    state = h0.detach().clone().requires_grad_(True)
    states = [state]
    for x_t in inputs:
        state = step(x_t, state)
        states.append(state)
    loss = (states[-1] * readout).sum()
    # allow_unused: a state that does not influence s_T (a lag beyond the model's memory, e.g. a
    # nilpotent map) has no gradient; that is a zero gradient, log -inf.
    grads = torch.autograd.grad(loss, states, allow_unused=True)
    norms = [
        torch.zeros(state.shape[:-1], dtype=torch.float64) if grad is None
        else torch.linalg.vector_norm(grad.detach(), dim=-1).to(torch.float64).cpu()
        for grad, state in zip(grads, states)
    ]
    with np.errstate(divide="ignore"):
        # states[t] is at lag T - t: reverse so that index = lag.
        return np.log(torch.stack(norms[::-1], dim=-1).numpy())


def gradient_growth_rate(
    log_norms: np.ndarray, *, min_lag: int, max_lag: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Growth rate per step of the gradient norm: mean over trajectories of the fitted slopes.

    A least-squares line is fitted to each trajectory's ``log‖∂L/∂s_{T−ℓ}‖`` over
    ``min_lag ≤ ℓ ≤ max_lag`` (past the transient, see the module docstring); the rate is the mean
    of the slopes, equal to the slope of the mean log-norm.

    Parameters
    ----------
    log_norms
        ``(..., M, n_lags)``: ``M`` independent trajectories, lag ``ℓ`` at index ``ℓ``.
    min_lag, max_lag
        Fitted lag range (inclusive; ``max_lag`` defaults to the last lag).

    Returns
    -------
    rate, standard_error
        ``(...)`` each, per step (natural log): the mean slope and its standard error over the
        ``M`` trajectories (NaN when ``M = 1``). ``-inf`` when a fitted log-norm is ``-inf``
        (the gradient vanished exactly), ``+inf`` when one overflowed.
    """
    log_norms = np.asarray(log_norms, dtype=np.float64)
    last = log_norms.shape[-1] - 1 if max_lag is None else max_lag
    if not 0 <= min_lag < last <= log_norms.shape[-1] - 1:
        raise ValueError(f"need 0 <= min_lag < max_lag <= {log_norms.shape[-1] - 1}, got {min_lag}, {last}")
    lags = np.arange(min_lag, last + 1, dtype=np.float64)
    y = log_norms[..., min_lag: last + 1]
    centred = lags - lags.mean()
    with np.errstate(invalid="ignore"):
        slopes = (y - y.mean(axis=-1, keepdims=True)) @ centred / (centred @ centred)
    # An exactly vanished (or overflowed) gradient has no finite slope: its rate is ∓inf.
    slopes = np.where(np.isneginf(y).any(axis=-1), -np.inf, slopes)
    slopes = np.where(np.isposinf(y).any(axis=-1), np.inf, slopes)
    m = slopes.shape[-1]
    rate = slopes.mean(axis=-1)
    with np.errstate(invalid="ignore"):
        error = slopes.std(axis=-1, ddof=1) / np.sqrt(m) if m > 1 else np.full(rate.shape, np.nan)
    return rate, error
