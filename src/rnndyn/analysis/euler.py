"""Forward Euler for dh/dt = J h is the linear RNN h <- (I + dt J) h; exploding gradients are
its instability.

Forward Euler maps each eigenvalue lambda of J to the multiplier 1 + dt lambda of W = I + dt J.
It is stable iff every |1 + dt lambda| < 1 (Hairer & Wanner, "Solving Ordinary Differential
Equations II", sec. IV.2: the stability region of explicit Euler is the disc |1 + z| <= 1). The
gradient that backpropagation through time sends from step T to h_0 is (W^T)^T c, so its norm
grows or decays per step at the rate log max |1 + dt lambda|, and the rate changes sign where the
Euler step leaves the disc.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch


def euler_matrix(J: np.ndarray, dt: float) -> np.ndarray:
    """W = I + dt J: one forward Euler step of dh/dt = J h, i.e. the recurrent matrix of the RNN.

    Parameters
    ----------
    J
        (n, n) system matrix (units 1/time).
    dt
        Step size (time).

    Returns
    -------
    numpy.ndarray
        (n, n), float64.
    """
    J = np.asarray(J, dtype=np.float64)
    return np.eye(J.shape[0]) + dt * J


def euler_stability_boundary(eigenvalue: complex | np.ndarray) -> float | np.ndarray:
    """Step size at which |1 + dt lambda| = 1, the edge of forward Euler's stability.

    For Re lambda < 0 the multiplier has modulus below 1 exactly for
    0 < dt < -2 Re lambda / |lambda|^2 (2 / |lambda| for real lambda). For Re lambda >= 0 no
    positive step is stable and the boundary is 0. The boundary of a matrix J is the minimum over
    its eigenvalues.

    Parameters
    ----------
    eigenvalue
        lambda, a scalar or an array (complex allowed).

    Returns
    -------
    float or numpy.ndarray
        dt (time), with the shape of ``eigenvalue``.
    """
    lam = np.asarray(eigenvalue, dtype=np.complex128)
    # np.where evaluates both branches: the floor keeps lambda = 0 from dividing by zero.
    boundary = np.where(lam.real < 0, -2.0 * lam.real / np.maximum(np.abs(lam) ** 2, 1e-300), 0.0)
    return float(boundary) if boundary.ndim == 0 else boundary


def bptt_gradient_norms(
    W: np.ndarray, T_values: Sequence[int], *, readout: np.ndarray | None = None
) -> np.ndarray:
    """||dL/dh_0|| for the loss L = c . h_T after T steps of h <- W h, by autograd (float64).

    The loss is linear, so the gradient (W^T)^T c does not depend on h_0 and its norm isolates the
    product of Jacobians that BPTT multiplies together.

    Parameters
    ----------
    W
        (n, n) recurrent matrix.
    T_values
        Sequence lengths T (positive integers).
    readout
        c (n,); default the unit vector (1, ..., 1) / sqrt(n).

    Returns
    -------
    numpy.ndarray
        (len(T_values),) gradient norms, float64 (inf where they overflow).
    """
    W_t = torch.as_tensor(np.asarray(W, dtype=np.float64))
    n = W_t.shape[0]
    c = (
        torch.full((n,), 1.0 / np.sqrt(n), dtype=torch.float64)
        if readout is None
        else torch.as_tensor(np.asarray(readout, dtype=np.float64))
    )
    h0 = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    states = [h0]
    for _ in range(max(T_values)):
        states.append(W_t @ states[-1])
    gradients = [torch.autograd.grad(c @ states[T], h0, retain_graph=True)[0] for T in T_values]
    return np.asarray([torch.linalg.vector_norm(g).item() for g in gradients])


def growth_rate_per_step(norms: np.ndarray, T_values: Sequence[int]) -> float:
    """Least-squares slope of log ||dL/dh_0|| against T: the gradient's growth rate per step.

    Positive: exploding gradients; negative: vanishing. Choose T values past any non-normal
    transient; for a normal W the rate is log max |eig W| at every T.

    Returns
    -------
    float
        Rate per step (natural log); -inf if a norm is exactly 0 (W nilpotent on c, e.g.
        1 + dt lambda = 0 for a scalar), +inf if a norm overflowed.
    """
    norms = np.asarray(norms, dtype=np.float64)
    if np.any(norms == 0):
        return -math.inf
    if not np.all(np.isfinite(norms)):
        return math.inf
    slope, _ = np.polyfit(np.asarray(T_values, dtype=np.float64), np.log(norms), 1)
    return float(slope)


def locate_stability_switch(
    J: np.ndarray,
    dt_grid: np.ndarray,
    *,
    T_values: Sequence[int] = (50, 100, 150, 200),
    n_bisect: int = 50,
) -> float:
    """Step size dt where the measured BPTT growth rate of W = I + dt J changes sign.

    The growth rate (:func:`growth_rate_per_step` of :func:`bptt_gradient_norms`) is measured on
    ``dt_grid``; the first grid interval where it goes from negative to non-negative is refined by
    ``n_bisect`` bisection steps on the sign of the measured rate. Compare with
    min over eig(J) of :func:`euler_stability_boundary`.

    Parameters
    ----------
    J
        (n, n) stable system matrix.
    dt_grid
        Increasing step sizes that bracket the switch.
    T_values
        Sequence lengths used to fit each growth rate.
    n_bisect
        Bisection steps; the bracket shrinks by 2 ** n_bisect.

    Returns
    -------
    float
        dt at the switch (time).

    Raises
    ------
    ValueError
        If the measured rate does not change sign from negative to non-negative on ``dt_grid``.
    """

    def rate(dt: float) -> float:
        return growth_rate_per_step(bptt_gradient_norms(euler_matrix(J, dt), T_values), T_values)

    dt_grid = np.asarray(dt_grid, dtype=np.float64)
    rates = np.array([rate(dt) for dt in dt_grid])
    switches = np.flatnonzero((rates[:-1] < 0) & (rates[1:] >= 0))
    if switches.size == 0:
        raise ValueError("the growth rate does not change sign on dt_grid")
    low, high = dt_grid[switches[0]], dt_grid[switches[0] + 1]
    for _ in range(n_bisect):
        middle = 0.5 * (low + high)
        if rate(middle) < 0:
            low = middle
        else:
            high = middle
    return float(0.5 * (low + high))
