"""Principal component analysis of a cloud of states: the views the study plots and normalises by."""

from __future__ import annotations

import numpy as np


def principal_axes(points: np.ndarray, n_components: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, leading principal axes and their share of the variance of a cloud.

    Parameters
    ----------
    points
        Cloud ``(..., d)``; every leading dimension is a sample (e.g. trials × time).
    n_components
        ``k``, axes kept (default: all, ``min(N, d)``).

    Returns
    -------
    mean
        ``(d,)``.
    axes
        ``(k, d)``, orthonormal rows ordered by variance (right singular vectors of the centred cloud).
    explained
        ``(k,)``, each axis's fraction of the total variance.
    """
    flat = np.asarray(points, dtype=np.float64).reshape(-1, np.shape(points)[-1])
    mean = flat.mean(axis=0)
    _, singular, axes = np.linalg.svd(flat - mean, full_matrices=False)
    variance = singular**2
    total = variance.sum()
    explained = variance / total if total > 0 else np.zeros_like(variance)
    return mean, axes[:n_components], explained[:n_components]
