"""Mean-field theory of the discrete-time random tanh network ``h_{t+1} = tanh(g J h_t + u_t)``.

For ``N → ∞`` with ``J_ij ~ N(0, 1/N)`` and white input noise ``u_t ~ N(0, σ² I)``, the local field
``x = g J h + u`` of a unit is Gaussian with variance ``g² q + σ²``, where ``q = E h²`` is the
stationary activity variance, the fixed point of

    q = E_z[tanh²(√(g² q + σ²) z)],   z ~ N(0, 1)                                    (1)

A tangent vector is multiplied by ``g J`` and then by ``diag(1 − h²)``; with ``J`` independent of
the tangent direction (the annealed approximation, exact as ``N → ∞``) its squared norm grows per
step by ``g² E[sech⁴(x)]``, so the mean-field largest Lyapunov exponent is

    λ_MF(g, σ) = ½ ln(g² E_z[sech⁴(√(g² q + σ²) z)])                                 (2)

and the onset of chaos is where ``g² E[sech⁴] = 1`` (Molgedey, Schuchhardt & Schuster 1992, PRL
69, 3717, for the discrete-time network with input noise; Sompolinsky, Crisanti & Sommers 1988, PRL
61, 259, for the continuous-time network). Without noise ``q = 0`` below ``g = 1`` and the onset
is exactly ``g = 1``; there ``q ≈ g − 1`` just above, the first-order terms of (2) cancel and
``λ_MF ≈ ⅔ (g − 1)²`` (a tangency; expanding tanh² and sech⁴ to sixth order in the field). With
noise ``q > 0`` at the onset, which moves above 1, and ``λ_MF`` crosses zero with a nonzero slope:
noise suppresses chaos.

Gaussian expectations by Gauss–Hermite quadrature (probabilists' weights). NumPy / SciPy only.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.optimize

# Nodes of the probabilists' Gauss-Hermite rule: E f(z) for z ~ N(0, 1) with an error far below
# 1e-12 for the smooth, bounded integrands here (tanh², sech⁴ of a field of variance <= g² + σ²).
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(121)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def gaussian_mean(f, variance: float) -> float:
    """``E f(x)`` for ``x ~ N(0, variance)`` by Gauss–Hermite quadrature (``f`` vectorised)."""
    return float(np.dot(_WEIGHTS, f(math.sqrt(variance) * _NODES)))


def activity_variance(g: float, sigma: float) -> float:
    """The stationary variance ``q`` of equation (1): its largest root in ``[0, 1]``.

    With noise, ``F(q) = E tanh²(√(g² q + σ²) z) − q`` is positive at 0 and negative at 1: one
    root, found by Brent's method (a fixed-point iteration converges like ``1/t`` near the onset).
    Without noise ``q = 0`` solves (1) for every ``g``; it is the only root for ``g <= 1``, and for
    ``g > 1`` the active root is that of ``F(q)/q``, which tends to ``g² − 1 > 0`` as ``q → 0``.

    Parameters
    ----------
    g
        Gain (``W = g J``).
    sigma
        Standard deviation of the white input noise.
    """
    def excess(q: float) -> float:
        return gaussian_mean(lambda x: np.tanh(x) ** 2, g * g * q + sigma * sigma) - q

    if sigma > 0.0:
        return float(scipy.optimize.brentq(excess, 0.0, 1.0, xtol=1e-15))
    if g <= 1.0:
        return 0.0
    return float(scipy.optimize.brentq(lambda q: excess(q) / q, 1e-16, 1.0, xtol=1e-15))


def lambda1_mean_field(g: float, sigma: float) -> float:
    """Mean-field largest Lyapunov exponent (2), in nats per step."""
    q = activity_variance(g, sigma)
    return 0.5 * math.log(g * g * gaussian_mean(lambda x: np.cosh(x) ** -4, g * g * q + sigma * sigma))


def onset_of_chaos(sigma: float, *, bracket: tuple[float, float] = (0.5, 5.0)) -> float:
    """The mean-field onset ``g_c(σ)``: the zero of ``λ_MF(g, σ)`` (``g² E sech⁴ = 1``).

    At ``σ = 0`` the answer is 1 exactly (``λ_MF = ln g < 0`` below, a tangency at 1), found here
    as the largest ``g`` with ``λ_MF <= 0`` to the root finder's tolerance; for ``σ > 0`` a simple root.
    """
    if sigma == 0.0:
        # λ_MF = ln g below 1 and ≈ ⅔ (g − 1)² above: a double zero, which brentq cannot bracket;
        # λ_MF − 1e-12 changes sign within ~1.5e-6 of g = 1.
        return float(scipy.optimize.brentq(lambda g: lambda1_mean_field(g, 0.0) - 1e-12, *bracket, xtol=1e-12))
    return float(scipy.optimize.brentq(lambda g: lambda1_mean_field(g, sigma), *bracket, xtol=1e-12))


def level_crossing(sigma: float, level: float, *, bracket: tuple[float, float] = (0.5, 5.0)) -> float:
    """The gain above the onset where ``λ_MF(g, σ)`` reaches ``level > 0`` (a simple root of ``λ_MF − level``)."""
    low = max(bracket[0], onset_of_chaos(sigma, bracket=bracket))
    return float(scipy.optimize.brentq(lambda g: lambda1_mean_field(g, sigma) - level, low, bracket[1], xtol=1e-12))
