"""Lyapunov spectra of a trained network, closed loop and driven, and which exponents are its model's.

A network trained to predict a signal is run in two ways:

- **closed loop** (autonomous): its prediction is its next input, ``s_{t+1} = F(C h_t + d, s_t)``
  (:func:`rnndyn.models.rollout.closed_loop`); the tangent map is ``D_s F + D_x F C`` (with ``C``
  acting on the hidden part ``h`` of the full state ``s``);
- **driven** (open loop): it is fed the true signal ``u_t``, ``s_{t+1} = F(u_t, s_t)``; the tangent
  map is ``D_s F`` alone, and its exponents are the conditional Lyapunov exponents of the response
  to that drive (Pecora & Carroll 1990 [1]). All negative: the network forgets its initial state and
  synchronises to the signal (generalised synchronisation, ``s_t ≈ φ(u_t, u_{t-1}, …)``).

Both spectra come from the QR engine of :mod:`rnndyn.analysis.lyapunov` with the families' analytic
Jacobians (:meth:`rnndyn.models.base.RecurrentModel.step_jacobians`), in float64.

Intrinsic and spurious exponents
--------------------------------
A network whose closed loop reproduces a ``d``-dimensional system lives on a ``d``-dimensional
invariant set inside its ``S``-dimensional state space. Its ``S`` closed-loop exponents are then the
``d`` exponents of the reconstructed dynamics (intrinsic) and ``S − d`` exponents of contraction
transverse to that set (spurious), and the transverse ones approximate conditional exponents of the
network driven by the true signal (Hart 2024 [2], shown for reservoir computers: near the
synchronisation manifold the transverse part of the closed-loop tangent map is the driven one; the
argument rests on the generalised synchronisation of the driven network, which is why it is applied
here to every family). A spurious
exponent can rank anywhere, also above the system's most negative exponent, where a reading of the
sorted spectrum takes it for λ_d; the spectrum is faithful only when the largest conditional
exponent lies below the system's smallest (Hart 2024 [2]). :func:`intrinsic_exponents` removes the
closed-loop exponents that match a conditional one; the rest are the intrinsic set.

References
----------
.. [1] L. M. Pecora, T. L. Carroll, "Synchronization in chaotic systems", Phys. Rev. Lett. 64,
   821–824 (1990).
.. [2] J. D. Hart, "Attractor reconstruction with reservoir computers: the effect of the
   reservoir's conditional Lyapunov exponents on faithful attractor reconstruction",
   arXiv:2401.00885 (2024).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch.nn.utils import parametrize

from rnndyn.analysis.lyapunov import (
    DrivenTangentStep,
    LyapunovResult,
    QrEvery,
    lyapunov_spectrum_driven,
)
from rnndyn.models.base import RecurrentModel

ROUND_OFF_PER_STEP = 1e-7
"""Bound on the QR engine's round-off in an exponent, per step: with ``qr_every="auto"`` each QR adds
an absolute error of order 1e-7 to a ``log|R_ii|`` sum (:mod:`rnndyn.analysis.lyapunov`), and there
is at most one QR per step; divided by ``dt`` it is the floor of the matching tolerance."""

STRETCH_ELEMENTS = 2**17
"""Jacobian entries formed at once along a trajectory (1 MiB in float64; see :func:`_stretched`)."""

N_SIGMA = 4.0
"""Default matching tolerance in standard errors of the difference of two exponents. For batch means
of 8 trajectories (t distribution, 7 to 14 degrees of freedom) a true pair is left unmatched with
probability 0.1–0.5 %, so a 32-dimensional spectrum loses a spurious exponent to the intrinsic set
in at most about one network in ten (union bound)."""


@dataclass(frozen=True)
class ExponentSplit:
    """Closed-loop exponents split into intrinsic and spurious (see :func:`intrinsic_exponents`).

    Attributes
    ----------
    intrinsic
        Indices into the closed-loop spectrum of the exponents matched by no conditional exponent
        (the reconstructed dynamics), ascending.
    spurious
        Indices of the matched ones (transverse contraction), ascending.
    pairs
        ``(n_pairs, 2)`` integer array: rows ``(closed index, conditional index)``, by closed index.
    tolerance
        ``(n_pairs,)`` tolerance each pair was accepted under (the exponents' units).
    """

    intrinsic: np.ndarray
    spurious: np.ndarray
    pairs: np.ndarray
    tolerance: np.ndarray


def closed_loop_spectrum(
    model: RecurrentModel,
    states0: np.ndarray | torch.Tensor,
    *,
    n_steps: int,
    n_transient: int,
    dt: float,
    rng: np.random.Generator,
    record_every: int | None = None,
    qr_every: QrEvery = "auto",
    n_exponents: int | None = None,
) -> LyapunovResult:
    """Lyapunov spectrum of a network run in closed loop, ``s ← step(readout(s), s)``.

    The tangent map is ``D_s F + D_x F C`` (the fed-back input moves with the state). The
    trajectory is run a stretch at a time and the Jacobians along the stretch are formed together
    (:meth:`~rnndyn.models.base.RecurrentModel.step_jacobians` on all its states at once), so a
    step of the QR iteration costs one step of the network and one batched product.

    Parameters
    ----------
    model
        A float64 network with ``output_size == input_size``.
    states0
        ``(B, state_size)`` initial full states, e.g. the end of closed-loop runs on the network's
        own attractor (one trajectory each).
    n_steps
        Steps averaged over, after the transient.
    n_transient
        Steps iterated (with QR) first, so that the tangent basis aligns with the Lyapunov vectors.
    dt
        Time per step: exponents per unit time (1: per step).
    rng
        Draws the initial tangent basis.
    record_every, qr_every, n_exponents
        As in :func:`rnndyn.analysis.lyapunov.lyapunov_spectrum` (default: the full spectrum,
        ``state_size`` exponents; running estimates every ``n_steps // 100`` steps).

    Returns
    -------
    LyapunovResult
        ``exponents (B, k)`` per unit time, sorted descending, and their running estimates.
    """
    _check_model(model)
    if model.output_size != model.input_size:
        raise ValueError(
            f"closed loop needs output_size == input_size, got {model.output_size} != {model.input_size}"
        )
    start = _states(states0, model)
    readout_weight = model.output_layer.weight
    hidden = model.hidden_size

    def stretch(t0: int, state: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        states = [state]
        for _ in range(length):
            states.append(model.step(model.readout(states[-1]), states[-1]))
        states = torch.stack(states, dim=1)
        along = states[:, :-1].reshape(-1, model.state_size)
        _, state_jacobian, input_jacobian = model.step_jacobians(model.readout(along), along)
        state_jacobian[..., :hidden] += input_jacobian @ readout_weight
        return states[:, 1:], state_jacobian

    with torch.no_grad(), parametrize.cached():
        return lyapunov_spectrum_driven(_stretched(stretch, start, n_transient + n_steps), start,
                                        n_steps=n_steps, n_transient=n_transient, qr_every=qr_every,
                                        dt=dt, record_every=record_every, n_exponents=n_exponents, rng=rng)


def conditional_spectrum(
    model: RecurrentModel,
    inputs: np.ndarray | torch.Tensor,
    states0: np.ndarray | torch.Tensor,
    *,
    n_transient: int,
    dt: float,
    rng: np.random.Generator,
    record_every: int | None = None,
    qr_every: QrEvery = "auto",
    n_exponents: int | None = None,
) -> LyapunovResult:
    """Conditional Lyapunov spectrum of a network driven open loop by a given signal [1].

    ``s_{t+1} = step(inputs[:, t], s_t)`` for ``t = 0 … T − 1``, the input held fixed in the
    tangent map (``D_s F`` alone). The first ``n_transient`` steps align the tangent basis (and let
    the state synchronise to the drive); the exponents average the remaining ``T − n_transient``.
    The states come from the family's teacher-forced :meth:`trajectory` (its fused kernel where it
    has one) and the Jacobians along a stretch are formed together, as in
    :func:`closed_loop_spectrum`.

    Parameters
    ----------
    model
        A float64 network.
    inputs
        ``(B, T, input_size)`` drive, one signal per trajectory (the true signal, as in training).
    states0
        ``(B, state_size)`` states before ``inputs[:, 0]`` (zeros are fine given a long enough
        transient: every conditional exponent is negative for a network that synchronises).
    n_transient
        Steps before averaging starts, ``< T``.
    dt, rng, record_every, qr_every, n_exponents
        As in :func:`closed_loop_spectrum`.

    Returns
    -------
    LyapunovResult
        ``exponents (B, k)`` per unit time, sorted descending, and their running estimates.
    """
    _check_model(model)
    start = _states(states0, model)
    drive = torch.as_tensor(inputs, dtype=torch.float64)
    if drive.ndim != 3 or drive.shape[0] != start.shape[0] or drive.shape[2] != model.input_size:
        raise ValueError(f"inputs must have shape ({start.shape[0]}, T, {model.input_size}), "
                         f"got {tuple(drive.shape)}")
    total = drive.shape[1]

    def stretch(t0: int, state: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        window = drive[:, t0 : t0 + length]
        _, following = model.trajectory(window, state)
        along = torch.cat([state.unsqueeze(1), following[:, :-1]], dim=1).reshape(-1, model.state_size)
        _, state_jacobian, _ = model.step_jacobians(window.reshape(-1, model.input_size), along)
        return following, state_jacobian

    with torch.no_grad(), parametrize.cached():
        return lyapunov_spectrum_driven(_stretched(stretch, start, total), start,
                                        n_steps=total - n_transient, n_transient=n_transient,
                                        qr_every=qr_every, dt=dt, record_every=record_every,
                                        n_exponents=n_exponents, rng=rng)


def intrinsic_exponents(
    closed: np.ndarray,
    closed_se: np.ndarray,
    conditional: np.ndarray,
    conditional_se: np.ndarray,
    *,
    dt: float,
    n_sigma: float = N_SIGMA,
    rtol: float = 0.0,
) -> ExponentSplit:
    """Split a closed-loop spectrum into intrinsic and spurious exponents (Hart 2024 [2]).

    The rule. A closed-loop exponent ``λ_i`` and a conditional exponent ``μ_j`` are compatible when

        ``|λ_i − μ_j| ≤ tol_ij = max(n_sigma · sqrt(se_i² + se_j²), rtol · max(|λ_i|, |μ_j|),
        ROUND_OFF_PER_STEP / dt)``,

    i.e. when they do not differ by more than ``n_sigma`` standard errors of their difference
    (the two estimates come from independent trajectories), nor by more than the engine's
    round-off. Two equal infinite values (directions the map sends to zero) are compatible; an
    infinite value and a finite one are not. Pairs are one to one: among the matchings of
    compatible pairs, the one with the most pairs, and among those the smallest sum of
    ``|λ_i − μ_j| / tol_ij`` (an optimal assignment, Hungarian algorithm via
    ``scipy.optimize.linear_sum_assignment``). Matched closed-loop exponents are spurious
    (transverse contraction); the unmatched ones are intrinsic. A conditional exponent matches at
    most one closed-loop exponent, so a degenerate pair of closed-loop exponents needs two
    conditional ones.

    Parameters
    ----------
    closed, closed_se
        ``(n,)`` closed-loop exponents (batch means) and their standard errors.
    conditional, conditional_se
        ``(m,)`` conditional exponents of the same network and their standard errors.
    dt
        Time per step of the exponents' unit (1 when they are per step); sets the round-off floor.
    n_sigma
        Tolerance in standard errors of the difference (:data:`N_SIGMA`).
    rtol
        Relative tolerance: a systematic mismatch between the closed-loop and the driven transverse
        exponents accepted (Hart's correspondence is exact only for an exact synchronisation
        manifold). 0 by default: only statistics and round-off separate a pair.

    Returns
    -------
    ExponentSplit

    Raises
    ------
    ValueError
        If a finite exponent has a non-finite standard error (e.g. from a batch of one).
    """
    closed, closed_se = _spectrum(closed, closed_se, "closed")
    conditional, conditional_se = _spectrum(conditional, conditional_se, "conditional")
    if dt <= 0 or n_sigma < 0 or rtol < 0:
        raise ValueError("need dt > 0, n_sigma >= 0 and rtol >= 0")
    lam, mu = closed[:, None], conditional[None, :]
    both_infinite = np.isinf(lam) & (lam == mu)
    with np.errstate(invalid="ignore"):
        distance = np.where(both_infinite, 0.0, np.abs(lam - mu))
    scale = np.maximum(np.abs(np.where(np.isinf(lam), 0.0, lam)), np.abs(np.where(np.isinf(mu), 0.0, mu)))
    tolerance = np.maximum.reduce([
        n_sigma * np.hypot(closed_se[:, None], conditional_se[None, :]),
        rtol * scale,
        np.full(distance.shape, ROUND_OFF_PER_STEP / dt),
    ])
    compatible = np.isfinite(distance) & (distance <= tolerance)
    # An incompatible pair costs more than any matching of compatible ones (each costs <= 1), so the
    # optimal assignment first maximises the number of compatible pairs, then minimises their cost.
    forbidden = float(min(closed.size, conditional.size) + 1)
    cost = np.where(compatible, np.divide(distance, tolerance, where=compatible, out=np.zeros_like(distance)),
                    forbidden)
    rows, cols = linear_sum_assignment(cost)
    kept = compatible[rows, cols]
    rows, cols = rows[kept], cols[kept]
    spurious = np.sort(rows)
    order = np.argsort(rows)
    return ExponentSplit(
        intrinsic=np.setdiff1d(np.arange(closed.size), spurious),
        spurious=spurious,
        pairs=np.stack([rows[order], cols[order]], axis=1).astype(np.int64).reshape(-1, 2),
        tolerance=tolerance[rows[order], cols[order]],
    )


Stretch = Callable[[int, torch.Tensor, int], tuple[torch.Tensor, torch.Tensor]]


def _stretched(stretch: Stretch, start: torch.Tensor, total: int) -> DrivenTangentStep:
    """The engine's tangent step from Jacobians formed a stretch of steps at a time.

    ``stretch(t0, state, length)`` runs ``length`` steps from ``state`` (the states at step ``t0``)
    and returns the ``(B, length, S)`` states after each step and the ``(B · length, S, S)``
    tangent maps at the states before each step, rows ordered by trajectory then time (consecutive
    rows are consecutive states, which :meth:`ShallowPLRNN.step_jacobians
    <rnndyn.models.plrnn.ShallowPLRNN.step_jacobians>` exploits). A stretch holds about
    :data:`STRETCH_ELEMENTS` Jacobian entries: enough steps that the per-operation overhead of
    forming them vanishes, few enough to stay in cache.
    """
    batch, size = start.shape
    length = max(1, STRETCH_ELEMENTS // (batch * size * size))
    # Per-step views, unbound once per stretch: a tuple lookup per step instead of a tensor index.
    t0, following, jacobians = 0, (), ()

    def tangent_step(t: int, state: torch.Tensor, basis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        nonlocal t0, following, jacobians
        if t - t0 >= len(jacobians):
            t0 = t
            states, flat = stretch(t, state, min(length, total - t))
            following, jacobians = states.unbind(1), flat.view(batch, -1, size, size).unbind(1)
        return following[t - t0], torch.bmm(jacobians[t - t0], basis)

    return tangent_step


def _spectrum(values: np.ndarray, standard_errors: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=np.float64)
    standard_errors = np.asarray(standard_errors, dtype=np.float64)
    if values.ndim != 1 or standard_errors.shape != values.shape:
        raise ValueError(f"{name} exponents and standard errors must be 1-D of one length, "
                         f"got {values.shape} and {standard_errors.shape}")
    if np.isnan(values).any():
        raise ValueError(f"{name} exponents contain NaN")
    finite = np.isfinite(values)
    if not np.isfinite(standard_errors[finite]).all():
        raise ValueError(f"{name} exponents need finite standard errors (a batch of at least two)")
    # The standard error of an infinite exponent is undefined (inf − inf) and not needed.
    return values, np.where(finite, standard_errors, 0.0)


def _check_model(model: RecurrentModel) -> None:
    dtypes = {parameter.dtype for parameter in model.parameters()}
    if dtypes != {torch.float64}:
        raise ValueError(f"spectra are computed in float64: call model.double() first (got {dtypes})")


def _states(states: np.ndarray | torch.Tensor, model: RecurrentModel) -> torch.Tensor:
    start = torch.as_tensor(states, dtype=torch.float64).detach()
    if start.ndim != 2 or start.shape[1] != model.state_size:
        raise ValueError(f"states must have shape (B, {model.state_size}), got {tuple(start.shape)}")
    return start
