"""Fixed points, their stability and bifurcations of scalar maps; the bistable neuron's scan.

Fixed points are found without iterating the map: the critical points of g(h) = f(h) − h split
[lo, hi] into intervals on which g is monotone, so each interval holds at most one root, found by
bisection. This finds every fixed point, stable or not, including the two that merge at a fold,
as long as the critical points are separated by more than the grid spacing.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

ScalarMap = Callable[[np.ndarray], np.ndarray]

_BISECTION_STEPS = 64  # halves a unit interval below float64 resolution


def _bisect(g: ScalarMap, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Roots of ``g`` in the brackets ``[a, b]`` (P, K) with g(a)·g(b) ≤ 0, vectorised."""
    ga = g(a)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (a + b)
        gm = g(mid)
        left = np.sign(gm) == np.sign(ga)
        a = np.where(left, mid, a)
        ga = np.where(left, gm, ga)
        b = np.where(left, b, mid)
    return 0.5 * (a + b)


def _rows(fn: ScalarMap, values: np.ndarray) -> np.ndarray:
    """Evaluate a per-row function on ``values`` (P, K); NaN entries stay NaN."""
    return fn(np.nan_to_num(values)) + np.where(np.isnan(values), np.nan, 0.0)


def scalar_fixed_points(
    f: ScalarMap, df: ScalarMap, *, lo: float, hi: float, n_grid: int, max_roots: int
) -> np.ndarray:
    """All fixed points of a batch of scalar maps on ``[lo, hi]``.

    Parameters
    ----------
    f, df
        The maps and their derivatives, vectorised over a batch of P parameter sets: called with
        ``h`` of shape (P, K), they return (P, K) (the parameters broadcast as (P, 1)).
    lo, hi
        The interval searched.
    n_grid
        Grid points used to bracket the critical points of g(h) = f(h) − h.
    max_roots
        Columns of the result; more roots than that raise ``ValueError``.

    Returns
    -------
    numpy.ndarray
        (P, max_roots) fixed points in increasing order, NaN-padded.
    """
    grid = np.linspace(lo, hi, n_grid)
    g = lambda h: f(h) - h  # noqa: E731
    dg = lambda h: df(h) - 1.0  # noqa: E731
    dg_grid = dg(np.broadcast_to(grid, (1, n_grid)))
    n_params = dg_grid.shape[0] if dg_grid.shape[0] > 1 else f(np.zeros((1, 1))).shape[0]
    dg_grid = np.broadcast_to(dg_grid, (n_params, n_grid))
    positive = dg_grid >= 0
    change_p, change_i = np.nonzero(positive[:, 1:] != positive[:, :-1])
    n_crit = np.bincount(change_p, minlength=n_params)
    if n_crit.max(initial=0) > max_roots - 1:
        raise ValueError(f"more than {max_roots - 1} critical points: raise max_roots")
    # Left bracket of each critical point, slotted per parameter set; NaN where absent.
    slot = np.arange(change_p.size) - np.searchsorted(change_p, change_p)
    crit_lo = np.full((n_params, max_roots - 1), np.nan)
    crit_lo[change_p, slot] = grid[change_i]
    step = grid[1] - grid[0]
    crit = _bisect(lambda h: _rows(dg, h), crit_lo, crit_lo + step)
    # Breakpoints lo < c_1 < ... < c_k < hi: g is monotone between consecutive ones.
    breaks = np.concatenate([np.full((n_params, 1), lo), crit, np.full((n_params, 1), np.nan)], axis=1)
    breaks[np.arange(n_params), n_crit + 1] = hi
    a, b = breaks[:, :-1], breaks[:, 1:]
    ga, gb = _rows(g, a), _rows(g, b)
    has_root = (ga == 0) | (ga * gb < 0)
    roots = np.where(has_root, _bisect(lambda h: _rows(g, h), a, b), np.nan)
    roots = np.where(ga == 0, a, roots)
    last_is_root = _rows(g, np.full((n_params, 1), hi))[:, 0] == 0
    if last_is_root.any():
        roots = np.concatenate([roots, np.where(last_is_root, hi, np.nan)[:, None]], axis=1)
    roots = np.sort(roots, axis=1)[:, :max_roots]
    return roots


def bistable_fixed_points(w: np.ndarray, b: np.ndarray, *, n_grid: int = 2001, chunk: int = 2048) -> np.ndarray:
    """All fixed points of h ↦ tanh(w h + b) for each pair (w_i, b_i).

    Parameters
    ----------
    w, b
        Parameter pairs, shape (P,) each (broadcast together).
    n_grid
        Bracketing grid on [−1, 1] (every fixed point lies there since |tanh| < 1).
    chunk
        Parameter pairs solved at once; memory grows as ``chunk × n_grid`` floats.

    Returns
    -------
    numpy.ndarray
        (P, 3) fixed points in increasing order, NaN-padded (one or three; two only exactly at a fold).
    """
    w, b = np.broadcast_arrays(np.asarray(w, dtype=float).ravel(), np.asarray(b, dtype=float).ravel())
    out = np.empty((w.size, 3))
    for start in range(0, w.size, chunk):
        wc, bc = w[start : start + chunk, None], b[start : start + chunk, None]
        f = lambda h: np.tanh(wc * h + bc)  # noqa: E731
        df = lambda h: wc * (1.0 - np.tanh(wc * h + bc) ** 2)  # noqa: E731
        out[start : start + chunk] = scalar_fixed_points(f, df, lo=-1.0, hi=1.0, n_grid=n_grid, max_roots=3)
    return out


def bistable_multiplier(h_star: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Derivative of the map at a fixed point, f′(h*) = w (1 − h*²); stable iff |f′| < 1."""
    return w * (1.0 - h_star**2)


def locate_transition(
    count: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray, *, tol: float = 1e-12
) -> np.ndarray:
    """Bisect, for a batch of brackets, on where an integer-valued ``count`` changes.

    Parameters
    ----------
    count
        Vectorised: parameters (P,) → counts (P,).
    lo, hi
        Brackets (P,) on whose ends the count differs; ``ValueError`` otherwise.
    tol
        Width at which the bisection stops.

    Returns
    -------
    numpy.ndarray
        (P,) midpoints of the final brackets.
    """
    lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    c_lo = count(lo)
    if np.any(count(hi) == c_lo):
        raise ValueError(f"count does not change on the brackets {np.c_[lo, hi][count(hi) == c_lo]}")
    while np.any(hi - lo > tol):
        mid = 0.5 * (lo + hi)
        same = count(mid) == c_lo
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    return 0.5 * (lo + hi)


def n_fixed_points(w: np.ndarray, b: np.ndarray, *, n_grid: int = 2001) -> np.ndarray:
    """Number of fixed points of the bistable neuron at each pair (w_i, b_i)."""
    return np.isfinite(bistable_fixed_points(w, b, n_grid=n_grid)).sum(axis=1)


def locate_pitchfork(w_grid: np.ndarray, *, n_grid: int = 2001) -> float:
    """The weight at which, at b = 0, one fixed point becomes three (the pitchfork; theory: w = 1).

    The scan on ``w_grid`` brackets the change in the number of fixed points; bisection on that
    number refines it. Raises ``ValueError`` if the scan never shows the change.
    """
    counts = n_fixed_points(w_grid, np.zeros_like(w_grid), n_grid=n_grid)
    changes = np.nonzero(counts[1:] != counts[:-1])[0]
    if changes.size == 0:
        raise ValueError("no pitchfork in the scanned w range")
    i = changes[0]
    count_b0 = lambda w: n_fixed_points(w, np.zeros_like(w), n_grid=n_grid)  # noqa: E731
    return float(locate_transition(count_b0, w_grid[i : i + 1], w_grid[i + 1 : i + 2])[0])


def locate_fold(w: np.ndarray, *, n_grid: int = 2001) -> np.ndarray:
    """|b_c| for each weight ``w > 1``: the bias beyond which one fixed point remains, not three."""
    w = np.asarray(w, dtype=float)
    # For |b| ≥ w + 1 the fixed point is unique; locate_transition raises if that bracket fails.
    return locate_transition(lambda b: n_fixed_points(w, b, n_grid=n_grid), np.zeros_like(w), w + 1.0)


def fold_boundary_formula(w: np.ndarray) -> np.ndarray:
    """|b_c(w)| = w s − artanh(s), s = √(1 − 1/w), for w > 1 (cusp at (1, 0)); NaN for w ≤ 1.

    Derived from the tangency conditions tanh(w h + b) = h and w (1 − h²) = 1.
    """
    w = np.asarray(w, dtype=float)
    with np.errstate(invalid="ignore"):
        s = np.sqrt(1.0 - 1.0 / w)
        return np.where(w > 1.0, w * s - np.arctanh(s), np.nan)
