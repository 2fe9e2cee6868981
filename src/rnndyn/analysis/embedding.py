"""Delay-coordinate embedding of a scalar series and the choice of its lag and dimension.

Takens (1981) showed that for a generic scalar observable x(t) of a flow on an attractor of box
dimension D, the delay vectors (x_t, x_{t+lag}, ..., x_{t+(dim-1) lag}) give an embedding once
dim > 2D. In practice the lag is the first minimum of the auto mutual information (Fraser &
Swinney 1986) and the dimension the smallest one without false nearest neighbours (Kennel, Brown
& Abarbanel 1992).

References
----------
F. Takens, "Detecting strange attractors in turbulence", Lecture Notes in Mathematics 898 (1981).
A. M. Fraser, H. L. Swinney, "Independent coordinates for strange attractors from mutual
information", Phys. Rev. A 33, 1134 (1986).
M. B. Kennel, R. Brown, H. D. I. Abarbanel, "Determining embedding dimension for phase-space
reconstruction using a geometrical construction", Phys. Rev. A 45, 3403 (1992).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial import cKDTree


def delay_embedding(x: np.ndarray, dim: int, lag: int) -> np.ndarray:
    """Delay vectors of a scalar series (Takens 1981).

    Parameters
    ----------
    x
        Scalar series (T,).
    dim
        Embedding dimension, >= 1.
    lag
        Delay in samples, >= 1.

    Returns
    -------
    numpy.ndarray
        (T - (dim - 1) * lag, dim), float64; row t is (x_t, x_{t+lag}, ..., x_{t+(dim-1) lag}).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be one-dimensional, got shape {x.shape}")
    if dim < 1 or lag < 1:
        raise ValueError(f"dim and lag must be >= 1, got dim={dim}, lag={lag}")
    n = x.size - (dim - 1) * lag
    if n < 1:
        raise ValueError(f"series of length {x.size} too short for dim={dim}, lag={lag}")
    return np.stack([x[k * lag : k * lag + n] for k in range(dim)], axis=1)


def delay_cloud(x: np.ndarray, dim: int, lag: int, stride: int = 1) -> np.ndarray:
    """Delay vectors of each series of ``x`` (N, T), thinned by ``stride``, stacked in time order.

    Returns (N * ceil((T - (dim - 1) * lag) / stride), dim): series 0's vectors, then series 1's...
    """
    return np.concatenate([delay_embedding(series, dim, lag)[::stride] for series in x])


def state_cloud(states: np.ndarray, stride: int = 1) -> np.ndarray:
    """States (N, T, d) thinned by ``stride`` along time and stacked: (N * ceil(T / stride), d)."""
    return states[:, ::stride].reshape(-1, states.shape[-1])


def auto_mutual_information(x: np.ndarray, max_lag: int, n_bins: int) -> np.ndarray:
    """Mutual information between x_t and x_{t+lag} for lag = 0 .. max_lag (Fraser & Swinney 1986).

    Estimated from a joint histogram with ``n_bins`` equal-width bins spanning the range of the
    whole series (the same edges for x_t and x_{t+lag}). Fraser & Swinney used adaptive
    partitions; equal bins shift the curve's level but rarely the position of its first minimum,
    which is what the lag choice uses.

    Parameters
    ----------
    x
        Scalar series (T,), T > max_lag.
    max_lag
        Largest lag in samples.
    n_bins
        Bins per axis of the joint histogram.

    Returns
    -------
    numpy.ndarray
        (max_lag + 1,) mutual information in nats; entry ``lag`` is I(x_t; x_{t+lag}), entry 0 the
        entropy of the binned series.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size <= max_lag:
        raise ValueError(f"need a 1-D series longer than max_lag={max_lag}, got shape {x.shape}")
    lo, hi = x.min(), x.max()
    width = (hi - lo) / n_bins if hi > lo else 1.0
    symbols = np.minimum(((x - lo) / width).astype(np.int64), n_bins - 1)
    information = np.empty(max_lag + 1)
    for lag in range(max_lag + 1):
        a, b = symbols[: x.size - lag], symbols[lag:]
        joint = np.bincount(a * n_bins + b, minlength=n_bins * n_bins).reshape(n_bins, n_bins)
        p_ab = joint / a.size
        p_a, p_b = p_ab.sum(axis=1), p_ab.sum(axis=0)
        occupied = p_ab > 0
        ratio = p_ab[occupied] / np.outer(p_a, p_b)[occupied]
        information[lag] = np.sum(p_ab[occupied] * np.log(ratio))
    return information


def first_minimum(values: np.ndarray) -> int:
    """Index of the first local minimum of a sequence (the lag prescription of Fraser & Swinney).

    A local minimum is an interior index i with values[i] < values[i-1] and
    values[i] <= values[i+1] (a plateau counts at its first point).

    Parameters
    ----------
    values
        Sequence (n,), e.g. from :func:`auto_mutual_information` (index = lag in samples).

    Returns
    -------
    int
        The index of the first local minimum.

    Raises
    ------
    ValueError
        If the sequence has no interior local minimum (it decreases or increases throughout):
        then a larger ``max_lag`` is needed.
    """
    v = np.asarray(values, dtype=np.float64)
    is_minimum = (v[1:-1] < v[:-2]) & (v[1:-1] <= v[2:])
    found = np.flatnonzero(is_minimum)
    if found.size == 0:
        raise ValueError("no local minimum: extend the range of lags")
    return int(found[0] + 1)


def false_nearest_neighbours(
    x: np.ndarray,
    dims: Sequence[int],
    lag: int,
    *,
    rtol: float = 15.0,
    atol: float = 2.0,
    theiler_window: int = 0,
) -> np.ndarray:
    """Fraction of false nearest neighbours per embedding dimension (Kennel, Brown & Abarbanel 1992).

    For every delay vector y_i in dimension d (only those whose next coordinate x_{i+d lag} exists)
    the nearest neighbour y_j is found with a KD-tree. The pair is false if adding the coordinate
    (d + 1) separates it:

    - criterion 1: |x_{i+d lag} - x_{j+d lag}| / R_d(i) > rtol, with R_d(i) = ||y_i - y_j||;
    - criterion 2: R_{d+1}(i) / R_A > atol, with R_A the standard deviation of x.

    Parameters
    ----------
    x
        Scalar series (T,).
    dims
        Embedding dimensions to test, each >= 1.
    lag
        Delay in samples.
    rtol, atol
        Thresholds of the two criteria; Kennel et al.'s values are the defaults.
    theiler_window
        Neighbours j with |i - j| <= theiler_window are excluded (Theiler 1986): on a densely
        sampled flow the nearest vector is otherwise often the next sample in time, which is never
        false. 0 reproduces Kennel et al.

    Returns
    -------
    numpy.ndarray
        (len(dims),) fraction of false nearest neighbours in [0, 1]. Distances of zero (repeated
        vectors) count as false when the next coordinates differ.
    """
    x = np.asarray(x, dtype=np.float64)
    attractor_size = x.std()
    fractions = np.empty(len(dims))
    for n, d in enumerate(dims):
        n_points = x.size - d * lag
        if n_points < theiler_window + 2:
            raise ValueError(f"series too short for dimension {d} with lag {lag}")
        vectors = delay_embedding(x[: n_points + (d - 1) * lag], d, lag)
        neighbour, distance = _nearest_outside_window(vectors, theiler_window)
        index = np.arange(n_points)
        extra = np.abs(x[index + d * lag] - x[neighbour + d * lag])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(distance > 0, extra / distance, np.where(extra > 0, np.inf, 0.0))
        grown = np.sqrt(distance**2 + extra**2)
        false = (ratio > rtol) | (grown / attractor_size > atol)
        fractions[n] = false.mean()
    return fractions


def _nearest_outside_window(vectors: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Index and distance of each vector's nearest neighbour j with |i - j| > window."""
    n = vectors.shape[0]
    tree = cKDTree(vectors)
    # At most 2 * window temporal neighbours and the point itself can be excluded, so the nearest
    # admissible neighbour is among the first 2 * window + 2.
    k = min(n, 2 * window + 2)
    distance, neighbour = tree.query(vectors, k=k)
    distance, neighbour = distance.reshape(n, k), neighbour.reshape(n, k)
    admissible = np.abs(neighbour - np.arange(n)[:, None]) > window
    first = np.argmax(admissible, axis=1)
    rows = np.arange(n)
    return neighbour[rows, first], distance[rows, first]


def embedding_dimension(fnn_fractions: np.ndarray, dims: Sequence[int], threshold: float) -> int:
    """Smallest tested dimension whose false-nearest-neighbour fraction is at most ``threshold``.

    Parameters
    ----------
    fnn_fractions
        (len(dims),) from :func:`false_nearest_neighbours`.
    dims
        The dimensions the fractions belong to.
    threshold
        Largest acceptable fraction, e.g. 0.01.

    Returns
    -------
    int
        The embedding dimension.

    Raises
    ------
    ValueError
        If no tested dimension reaches the threshold.
    """
    fractions = np.asarray(fnn_fractions, dtype=np.float64)
    dims = np.asarray(dims)
    order = np.argsort(dims)
    below = np.flatnonzero(fractions[order] <= threshold)
    if below.size == 0:
        raise ValueError(f"no dimension in {dims.tolist()} has an FNN fraction <= {threshold}")
    return int(dims[order][below[0]])
