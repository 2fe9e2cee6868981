"""Crossings of a sampled curve, confidence intervals over replicates, finite-size extrapolation.

- :func:`first_upward_crossing` locates where a curve sampled on a grid first changes sign, with a
  dead band ``±tol`` around zero inside which a value is not told apart from zero (a finite-time
  Lyapunov exponent, say, converges like ``1/T``: a zero exponent is measured within a few ``1/T``
  of zero, never exactly at zero).
- :func:`monotone_crossing`: where the non-decreasing least-squares fit of a noisy curve crosses a
  level (robust to a single noisy point or a short window on either side of it).
- :func:`mean_interval`: the mean of replicate values and the half-width of its Student-t
  confidence interval; :func:`difference_interval`: Welch's interval on a difference of means.
- :func:`finite_size_extrapolation`: ``y(N) = y_inf + a N^(-1/ν)`` with a bootstrap interval.

NumPy and SciPy only: analysis jobs that summarise stores import this without torch.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.optimize
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


def monotone_crossing(x: np.ndarray, y: np.ndarray, level: float) -> float:
    """``x`` where the isotonic (non-decreasing least-squares) fit of ``y(x)`` crosses ``level``.

    The fit (pool-adjacent-violators; Barlow et al. 1972, *Statistical inference under order
    restrictions*) averages a dip of a noisy curve with its neighbours instead of letting it move a
    crossing: a single point of a rising noisy curve that falls below ``level`` past the crossing
    shifts a last-crossing rule to that point, and the fit by at most the pooled neighbours. The
    crossing is linearly interpolated between the fit's last grid point at or below ``level`` and
    the next; NaN if the fit never exceeds ``level`` or exceeds it from the first point (no
    crossing bracketed by the grid).

    Parameters
    ----------
    x
        Increasing grid ``(n,)``.
    y
        Values on the grid ``(n,)`` (for a Lyapunov exponent against the gain: rising on average
        through the onset of chaos).
    level
        The level crossed.
    """
    fit = scipy.optimize.isotonic_regression(y).x
    above = np.flatnonzero(fit > level)
    if above.size == 0 or above[0] == 0:
        return math.nan
    i = above[0]
    return float(x[i - 1] + (level - fit[i - 1]) / (fit[i] - fit[i - 1]) * (x[i] - x[i - 1]))


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


def _weighted_line(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares line ``y = c + b x`` along the last axis: ``(c, b)`` broadcast over the rest."""
    sw, swx, swy = w.sum(-1), (w * x).sum(-1), (w * y).sum(-1)
    swxx, swxy = (w * x * x).sum(-1), (w * x * y).sum(-1)
    slope = (sw * swxy - swx * swy) / (sw * swxx - swx**2)
    return (swy - slope * swx) / sw, slope


def _size_means(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means over the last axis (replicates, NaN ignored) and the weights ``1 / SE²`` of the means.

    Equal weights where some size's standard error is zero (or undefined), e.g. exact data.
    """
    count = np.isfinite(values).sum(-1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a size without two finite values: NaN, no warning
        mean = np.nanmean(values, axis=-1)
        var = np.nanvar(values, axis=-1, ddof=1) / count
    ok = np.all(np.isfinite(var) & (var > 0), axis=-1, keepdims=True)
    return mean, np.where(ok, 1.0 / np.where(var > 0, var, 1.0), 1.0)


def finite_size_extrapolation(sizes: np.ndarray, values: np.ndarray, exponent: float, *,
                              confidence: float = 0.95, n_boot: int = 2000,
                              rng: np.random.Generator) -> dict[str, float]:
    """Fit ``y(N) = y_inf + a N^(−exponent)`` to replicate values and a bootstrap interval on ``y_inf``.

    The replicate means at each size are fitted by weighted least squares (weights ``1/SE²`` of
    each mean); the interval is the percentile interval of ``y_inf`` over ``n_boot`` refits to
    replicates resampled with replacement within each size (Efron & Tibshirani 1993, ch. 13), so it
    carries the replicate-to-replicate spread of every size and the noise of the weights.

    Parameters
    ----------
    sizes
        Sizes ``N`` ``(S,)``.
    values
        Replicate values ``(S, R)``; NaN (no value for that replicate) is left out.
    exponent
        The fixed finite-size exponent ``1/ν``.
    confidence
        Level of the interval.
    n_boot
        Bootstrap resamples.
    rng
        Draws the resamples.

    Returns
    -------
    dict
        ``y_inf``, ``slope`` (``a``), ``low``, ``high`` (interval on ``y_inf``) and ``chi2`` (the
        weighted sum of squared residuals, to compare with its ``S − 2`` degrees of freedom).
    """
    x = np.asarray(sizes, dtype=float) ** -exponent
    values = np.asarray(values, dtype=float)
    mean, weight = _size_means(values)
    y_inf, slope = _weighted_line(x, mean, weight)
    n_rep = values.shape[1]
    pick = rng.integers(0, n_rep, size=(n_boot,) + values.shape)
    resampled = np.take_along_axis(np.broadcast_to(values, pick.shape), pick, axis=-1)
    b_mean, b_weight = _size_means(resampled)
    with np.errstate(all="ignore"):
        b_inf, _ = _weighted_line(x, b_mean, b_weight)
    b_inf = b_inf[np.isfinite(b_inf)]
    alpha = (1.0 - confidence) / 2
    low, high = (np.quantile(b_inf, [alpha, 1 - alpha]) if b_inf.size else (math.nan, math.nan))
    chi2 = float(np.sum(weight * (mean - y_inf - slope * x) ** 2))
    return {"y_inf": float(y_inf), "slope": float(slope), "low": float(low), "high": float(high), "chi2": chi2}


def difference_interval(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Mean of ``a`` minus mean of ``b`` (finite values) and the half-width of Welch's ``confidence`` interval.

    NaN for both with fewer than two finite values on either side.
    """
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if min(a.size, b.size) < 2:
        return math.nan, math.nan
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return float(a.mean() - b.mean()), float(scipy.stats.t.ppf(0.5 + confidence / 2, dof) * math.sqrt(va + vb))
