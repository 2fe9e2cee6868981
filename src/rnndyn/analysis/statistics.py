"""Crossings of a sampled curve and confidence intervals of a mean over replicates.

- :func:`first_upward_crossing` and :func:`last_upward_crossing` locate where a curve sampled on a
  grid changes sign, with a dead band ``±tol`` around zero inside which a value is not told apart
  from zero (a finite-time Lyapunov exponent, say, converges like ``1/T``: a zero exponent is
  measured within a few ``1/T`` of zero, never exactly at zero).
- :func:`mean_interval`: the mean of replicate values and the half-width of its Student-t
  confidence interval.

NumPy and SciPy only: analysis jobs that summarise stores import this without torch.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats


def first_upward_crossing(x: np.ndarray, y: np.ndarray, tol: float) -> float:
    """``x`` where ``y(x)`` first rises from below ``−tol`` to zero; NaN if it never does on the grid.

    The bracket is the first grid interval ``[x_i, x_{i+1}]`` with ``y_i < −tol ≤ y_{i+1}``. Inside
    it the zero is found on the secant through the last two points below ``−tol``, clipped to the
    bracket: the branch approaching the crossing from below is smooth (e.g. λ1 = log(g ρ(J)) at the
    stable origin of a random network), while ``y_{i+1}`` may already sit on a plateau at zero
    (λ1 = 0 on a periodic window) that a plain interpolation would take for the crossing. With a
    single point below the bracket (or a branch that does not rise towards it), the chord of the
    bracket is used.

    Parameters
    ----------
    x
        Increasing grid ``(n,)``.
    y
        Values on the grid ``(n,)``.
    tol
        Half-width of the band around zero inside which ``y`` counts as zero.
    """
    below = y < -tol
    for i in range(x.size - 1):
        if below[i] and not below[i + 1]:
            if i > 0 and below[i - 1] and y[i] > y[i - 1]:
                zero = x[i] - y[i] * (x[i] - x[i - 1]) / (y[i] - y[i - 1])
            else:
                zero = x[i] - y[i] * (x[i + 1] - x[i]) / (y[i + 1] - y[i])
            return float(np.clip(zero, x[i], x[i + 1]))
    return math.nan


def last_upward_crossing(x: np.ndarray, y: np.ndarray, tol: float) -> float:
    """``x`` from which ``y`` stays above ``+tol`` to the end of the grid, interpolated at level ``tol``.

    The last run of grid points above ``tol`` must reach the last point, else NaN. If every point
    is above, the first grid point; otherwise the linear interpolation at level ``tol`` between the
    last point not above and the first point of the run (clipped to that interval). For a Lyapunov
    exponent against a gain, the onset of chaos.

    Parameters
    ----------
    x
        Increasing grid ``(n,)``.
    y
        Values on the grid ``(n,)``.
    tol
        The level the curve must stay above.
    """
    above = y > tol
    if not above[-1]:
        return math.nan
    i = x.size - 1
    while i > 0 and above[i - 1]:
        i -= 1
    if i == 0:
        return float(x[0])
    frac = (tol - y[i - 1]) / (y[i] - y[i - 1])
    return float(x[i - 1] + np.clip(frac, 0.0, 1.0) * (x[i] - x[i - 1]))


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Mean of the finite ``values`` and the half-width of its Student-t ``confidence`` interval.

    The half-width is ``t_{(1 + confidence)/2, n − 1} s / √n`` with ``s`` the sample standard
    deviation of the ``n`` finite values; NaN below two of them (and the mean NaN with none).
    """
    values = values[np.isfinite(values)]
    if values.size < 2:
        return (float(values.mean()) if values.size else math.nan), math.nan
    half = scipy.stats.t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    return float(values.mean()), float(half)
