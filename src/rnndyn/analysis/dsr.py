"""Dynamical-systems-reconstruction (DSR) metrics: geometry, power spectrum, short-term prediction.

- D_stsp: KL divergence between the state-space occupation of the true and the generated
  trajectory (Koppe et al. 2019), binned;
- D_H: Hellinger distance between smoothed power spectra (Mikhaeil et al. 2022);
- valid prediction time: how long a forecast stays within a normalised error of the truth
  (Pathak et al. 2018; Vlachas et al. 2020).

The first two judge the long-term behaviour of a free-running (closed-loop) model; the third its
short-term forecast, which on a chaotic system is bounded by a few Lyapunov times.

References
----------
G. Koppe, H. Toutounji, P. Kirsch, S. Lis, D. Durstewitz, "Identifying nonlinear dynamical systems
via generative recurrent neural networks with applications to fMRI", PLoS Comput. Biol. 15,
e1007263 (2019).
J. Mikhaeil, Z. Monfared, D. Durstewitz, "On the difficulty of learning chaotic dynamics with
RNNs", NeurIPS (2022).
F. Hess, Z. Monfared, M. Brenner, D. Durstewitz, "Generalized teacher forcing for learning chaotic
dynamics", ICML (2023).
J. Pathak, B. Hunt, M. Girvan, Z. Lu, E. Ott, "Model-free prediction of large spatiotemporally
chaotic systems from data: a reservoir computing approach", Phys. Rev. Lett. 120, 024102 (2018).
P. R. Vlachas et al., "Backpropagation algorithms and reservoir computing in recurrent neural
networks for the forecasting of complex spatiotemporal dynamics", Neural Netw. 126, 191 (2020).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from rnndyn.analysis.embedding import delay_cloud

#: Probability given to a bin that the true trajectory visits but the generated one does not, so
#: that its KL term is large but finite. Of the order of one visit in 1e10 samples: far below any
#: real occupation, so it only ever stands in for zero.
EMPTY_BIN_PROBABILITY = 1e-10


def reconstruction_metrics(generated: np.ndarray, truth: np.ndarray, *, dim: int, lag: int, n_bins: int,
                           sigma: float) -> tuple[float, float]:
    """(D_stsp, D_H) between sets of generated and true series, both (N, T).

    D_stsp: :func:`state_space_divergence` of the delay vectors (``dim``, ``lag``) of all series
    pooled; D_H: mean over pairs (generated i, true i) of :func:`power_spectrum_hellinger`. A
    generated series with non-finite values (a run that blew up) has no spectrum: it scores the
    largest Hellinger distance, 1.
    """
    d_stsp = state_space_divergence(delay_cloud(generated, dim, lag), delay_cloud(truth, dim, lag), n_bins)
    d_h = [power_spectrum_hellinger(g, t, sigma) if np.all(np.isfinite(g)) else 1.0
           for g, t in zip(generated, truth)]
    return d_stsp, float(np.mean(d_h))


def state_space_divergence(
    x_gen: np.ndarray,
    x_true: np.ndarray,
    n_bins: int,
    *,
    epsilon: float = EMPTY_BIN_PROBABILITY,
) -> float:
    """D_stsp = KL(p_true || p_gen) between binned state-space occupations (Koppe et al. 2019).

    Each coordinate is cut into ``n_bins`` equal bins spanning the true data's range [min, max]
    (n_bins ** d bins in all; Mikhaeil et al. 2022 used 10 bins per dimension, Hess et al. 2023
    30). The occupations are p_true = count_true / T_true and p_gen = count_gen / T_gen. Generated
    points outside the box (and non-finite ones, from a diverged model) fall in no bin but still
    count in T_gen, so mass that escapes the true support raises the divergence. Only bins the true trajectory visits enter the sum

        D_stsp = sum_{bins with p_true > 0} p_true log(p_true / max(p_gen, epsilon)),

    where ``epsilon`` stands in for an unvisited generated bin. Only occupied bins are ever
    formed, so high-dimensional boxes cost no memory.

    Parameters
    ----------
    x_gen
        Generated trajectory (T_gen, d) or (T_gen,).
    x_true
        True trajectory (T_true, d) or (T_true,).
    n_bins
        Bins per dimension (state it alongside the result: D_stsp depends on it).
    epsilon
        Probability of a true-occupied bin the generated trajectory never visits.

    Returns
    -------
    float
        D_stsp in nats; 0 for identical samples, >= 0 up to the epsilon substitution.
    """
    x_gen, x_true = _as_2d(x_gen), _as_2d(x_true)
    if x_gen.shape[1] != x_true.shape[1]:
        raise ValueError(f"dimension mismatch: {x_gen.shape} vs {x_true.shape}")
    lo, hi = x_true.min(axis=0), x_true.max(axis=0)
    width = np.where(hi > lo, (hi - lo) / n_bins, 1.0)
    bins_true, bins_gen = _bin_index(x_true, lo, width, n_bins), _bin_index(x_gen, lo, width, n_bins)
    inside_gen = np.all((bins_gen >= 0) & (bins_gen < n_bins), axis=1)
    # One label per occupied bin, shared by both trajectories.
    _, label = np.unique(np.concatenate([bins_true, bins_gen[inside_gen]]), axis=0, return_inverse=True)
    label = label.reshape(-1)
    n_labels = label.max() + 1
    count_true = np.bincount(label[: x_true.shape[0]], minlength=n_labels)
    count_gen = np.bincount(label[x_true.shape[0] :], minlength=n_labels)
    visited = count_true > 0
    p_true = count_true[visited] / x_true.shape[0]
    p_gen = np.maximum(count_gen[visited] / x_gen.shape[0], epsilon)
    return float(np.sum(p_true * np.log(p_true / p_gen)))


def _as_2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[:, None] if x.ndim == 1 else x


def _bin_index(x: np.ndarray, lo: np.ndarray, width: np.ndarray, n_bins: int) -> np.ndarray:
    """(T, d) per-coordinate bin indices; outside [0, n_bins) for points outside the box."""
    position = (x - lo) / width
    # Non-finite positions (a diverged model) get an out-of-range index: counted as outside.
    index = np.where(np.isfinite(position), np.floor(position), -1).astype(np.int64)
    # The true maximum lies on the upper edge: it belongs to the last bin, not outside.
    index[(index == n_bins) & np.isclose(position, n_bins)] = n_bins - 1
    return index


def power_spectrum_hellinger(x_gen: np.ndarray, x_true: np.ndarray, sigma: float) -> float:
    """D_H: Hellinger distance between smoothed, normalised power spectra (Mikhaeil et al. 2022).

    Per dimension: the series is centred and scaled to unit variance, its power spectrum |FFT|^2
    (one-sided, ``numpy.fft.rfft``, the zero frequency dropped) is smoothed with a Gaussian kernel
    of standard deviation ``sigma`` frequency bins (Hess et al. 2023 use sigma = 20; the edges are
    reflected) and normalised to sum 1; then

        H(p, q) = sqrt(1 - sum_f sqrt(p_f q_f)),

    which lies in [0, 1]. The result is the mean of H over dimensions. Both series must have the
    same length so that their frequency bins coincide.

    Parameters
    ----------
    x_gen, x_true
        Generated and true series, (T,) or (T, d), same shape.
    sigma
        Smoothing width in frequency bins (state it alongside the result).

    Returns
    -------
    float
        Mean Hellinger distance over dimensions, in [0, 1].
    """
    x_gen, x_true = _as_2d(x_gen), _as_2d(x_true)
    if x_gen.shape != x_true.shape:
        raise ValueError(f"shape mismatch: {x_gen.shape} vs {x_true.shape}")
    p, q = _smoothed_spectrum(x_gen, sigma), _smoothed_spectrum(x_true, sigma)
    # Equal to sqrt(1 - sum sqrt(p q)) for normalised p, q, without its cancellation near 0.
    hellinger = np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2, axis=0))
    return float(np.mean(hellinger))


def _smoothed_spectrum(x: np.ndarray, sigma: float) -> np.ndarray:
    """(n_freq, d) normalised smoothed power spectrum of each column."""
    std = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    power = np.abs(np.fft.rfft(z, axis=0)[1:]) ** 2
    if sigma > 0:
        power = gaussian_filter1d(power, sigma, axis=0, mode="reflect")
    total = power.sum(axis=0)
    return power / np.where(total > 0, total, 1.0)


def valid_prediction_time(
    pred: np.ndarray,
    true: np.ndarray,
    *,
    scale: float | np.ndarray,
    threshold: float = 0.4,
    dt: float,
    lyapunov_time: float,
) -> np.ndarray:
    """Time until a forecast's normalised error first exceeds ``threshold``, in Lyapunov times.

    The error at step t is the normalised root-mean-square error over coordinates

        e_t = sqrt( mean_i ((pred_{t,i} - true_{t,i}) / scale_i)^2 )

    (Pathak et al. 2018 with threshold 0.4; Vlachas et al. 2020). Index 0 is the first forecast
    step, one ``dt`` after the last observed state, so a forecast whose first exceedance is at
    index k was valid for k steps: VPT = k dt / lyapunov_time. A forecast that never exceeds the
    threshold gets the full horizon T dt / lyapunov_time, a lower bound on its true VPT.

    Parameters
    ----------
    pred, true
        Forecast and truth (B, T, d); (T, d) and (T,) are read as one trajectory (d = 1 for (T,)).
    scale
        The signal's standard deviation, scalar or (d,), measured on the training data (not on the
        short forecast window), in the data's units.
    threshold
        Error level that ends the valid prediction.
    dt
        Time between samples.
    lyapunov_time
        1 / lambda_1 in the same time units (1.104 for Lorenz-63).

    Returns
    -------
    numpy.ndarray
        (B,) valid prediction times in Lyapunov times.
    """
    pred, true = _as_batch(pred), _as_batch(true)
    if pred.shape != true.shape:
        raise ValueError(f"shape mismatch: {pred.shape} vs {true.shape}")
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), pred.shape[-1:])
    error = np.sqrt(np.mean(((pred - true) / scale) ** 2, axis=-1))
    exceeded = error > threshold
    steps = np.where(exceeded.any(axis=1), np.argmax(exceeded, axis=1), pred.shape[1])
    return steps * dt / lyapunov_time


def _as_batch(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return x[None, :, None]
    if x.ndim == 2:
        return x[None]
    return x
