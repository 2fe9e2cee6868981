"""Forward Euler for dh/dt = J h is the linear RNN h <- (I + dt J) h; exploding gradients are
its instability.

Forward Euler maps each eigenvalue lambda of J to the multiplier 1 + dt lambda of W = I + dt J.
It is stable iff every |1 + dt lambda| < 1 (Hairer & Wanner, "Solving Ordinary Differential
Equations II", sec. IV.2: the stability region of explicit Euler is the disc |1 + z| <= 1). The
gradient that backpropagation through time sends from step T to h_0 is (W^T)^T c, so its norm
grows or decays per step at the rate log max |1 + dt lambda|, and the rate changes sign where the
Euler step leaves the disc. On a chaotic flow the same spurious growth inflates the largest
Lyapunov exponent (:func:`euler_lorenz_lambda1`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.linalg
import torch

from rnndyn.analysis.lyapunov import LyapunovResult, lyapunov_spectrum
from rnndyn.systems.lorenz import lorenz_initial_states, lorenz_jacobian, lorenz_vector_field


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


def system_matrix(spec: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    """J = V B V^{-1} with B block diagonal in the prescribed eigenvalues.

    Parameters
    ----------
    spec
        ``real``: real eigenvalues (1/time); ``complex``: pairs ``[re, im]``, each the pair
        re +- i im (a 2 x 2 block [[re, -im], [im, re]]); ``basis``: ``"orthogonal"`` (V Haar
        orthogonal, J normal) or ``"random"`` (V standard Gaussian, J non-normal).
    rng
        Draws V.

    Returns
    -------
    numpy.ndarray
        J (n, n), float64, n = len(real) + 2 len(complex).
    """
    blocks = [np.array([[lam]]) for lam in spec.get("real", [])]
    blocks += [np.array([[re, -im], [im, re]]) for re, im in spec.get("complex", [])]
    B = scipy.linalg.block_diag(*blocks)
    n = B.shape[0]
    G = rng.standard_normal((n, n))
    if spec["basis"] == "orthogonal":
        Q, R = np.linalg.qr(G)
        V = Q * np.sign(np.diag(R))
        return V @ B @ V.T
    return G @ B @ np.linalg.inv(G)


def gradient_sweep(J: np.ndarray, cfg: dict[str, Any]) -> dict[str, Any]:
    """BPTT gradient norms and growth rates of W = I + dt J over a dt grid around Euler's boundary.

    Parameters
    ----------
    J
        (n, n) stable system matrix.
    cfg
        The ``euler.gradients`` config section: ``dt_over_boundary`` grid, ``T_values``, ``n_bisect``.

    Returns
    -------
    dict
        ``boundary`` (min over eig J of the analytic boundary), ``dt`` (D,), ``norms`` (D, T),
        ``rate`` (D,) measured, ``rate_predicted`` (D,) = log max |1 + dt lambda|, ``switch`` the
        measured dt where the rate turns non-negative (NaN if it does not on the grid).
    """
    eigenvalues = np.linalg.eigvals(J)
    boundary = float(np.min(euler_stability_boundary(eigenvalues)))
    ratio = cfg["dt_over_boundary"]
    dt = boundary * np.linspace(ratio["start"], ratio["stop"], ratio["num"])
    T_values = list(cfg["T_values"])
    norms = np.array([bptt_gradient_norms(euler_matrix(J, step), T_values) for step in dt])
    rate = np.array([growth_rate_per_step(row, T_values) for row in norms])
    with np.errstate(divide="ignore"):  # a multiplier exactly 0 (dt = 1/|lambda|) has rate -inf
        predicted = np.log(np.max(np.abs(1.0 + dt[:, None] * eigenvalues[None, :]), axis=1))
    try:
        switch = locate_stability_switch(J, dt, T_values=T_values, n_bisect=cfg["n_bisect"])
    except ValueError:  # no sign change on the grid: recorded as NaN, the claim then fails
        switch = math.nan
    return {"boundary": boundary, "dt": dt, "norms": norms, "rate": rate, "rate_predicted": predicted,
            "switch": switch, "eigenvalues": eigenvalues}


def euler_lorenz_lambda1(
    rng: np.random.Generator, dt: float, *, n_trajectories: int, t_total: float, t_transient: float
) -> LyapunovResult:
    """Largest Lyapunov exponent of the forward-Euler map x <- x + dt f(x) of Lorenz-63.

    Random initial states are iterated by the Euler map itself for ``t_transient`` (its attractor
    is not the flow's), then the tangent vector for another ``t_transient`` before averaging over
    ``t_total``; the Jacobian of the map is I + dt Df(x) exactly. The budget and the stream's use
    (initial states, then the tangent basis) are those of
    :func:`rnndyn.systems.lorenz.lorenz_reference_spectrum`, the RK4 map's counterpart.

    Parameters
    ----------
    rng
        Initial states and tangent vector.
    dt
        Step (time units).
    n_trajectories, t_total, t_transient
        Trajectories averaged; averaging and transient time per trajectory (time units).

    Returns
    -------
    LyapunovResult
        Exponents per unit time, (B, 1).
    """
    n_transient = int(round(t_transient / dt))
    x = lorenz_initial_states(rng, n_trajectories)
    for _ in range(n_transient):
        x = x + dt * lorenz_vector_field(x)
    identity = np.eye(3)
    return lyapunov_spectrum(
        lambda state: state + dt * lorenz_vector_field(state),
        lambda state: identity + dt * lorenz_jacobian(state),
        x, n_steps=int(round(t_total / dt)), n_transient=n_transient, dt=dt, n_exponents=1, rng=rng)
