"""Dynamical-systems-reconstruction (DSR) metrics: geometry, power spectrum, short-term prediction.

- D_stsp: KL divergence between the state-space occupation of the true and the generated
  trajectory (Koppe et al. 2019), binned;
- D_H: Hellinger distance between smoothed power spectra (Mikhaeil et al. 2022);
- valid prediction time: how long a forecast stays within a normalised error of the truth
  (Pathak et al. 2018; Vlachas et al. 2020).

The first two judge the long-term behaviour of a free-running (closed-loop) model; the third its
short-term forecast, which on a chaotic system is bounded by a few Lyapunov times.

Both D_stsp and D_H depend on their settings (bins, box, empty-bin rule, smoothing, cutoff). The
pipeline's own definitions (:func:`reconstruction_metrics`, :func:`state_space_divergence` with an
int ``n_bins``, :func:`power_spectrum_hellinger`) stay as they are; :data:`PUBLISHED_SETTINGS`
holds the settings of Mikhaeil et al. 2022 and Hess et al. 2023, read from their public code,
for :func:`state_space_divergence` and :func:`power_spectrum_distance`, so that a value can be
set beside theirs. Published values also depend on the length of the series (sampling floor:
two independent 1e5-step stretches of Lorenz-63 at dt = 0.01 score D_stsp 0.028 under Hess et
al.'s settings, 0.61 at 1e4 steps), so compare at their length, 1e5 steps.

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

from dataclasses import dataclass

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
    n_bins: int | DSRSettings,
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

    Given a :class:`DSRSettings` instead of ``n_bins`` (e.g. ``PUBLISHED_SETTINGS["hess2023"]``),
    D_stsp is computed as that publication did instead (its box, Laplace smoothing over all bins,
    points outside the box dropped; see :class:`DSRSettings`); then trajectories (N, T, d) are
    accepted too, their points pooled, and the result is NaN when no generated point lies in the
    box. ``epsilon`` is not used then.

    Parameters
    ----------
    x_gen
        Generated trajectory (T_gen, d) or (T_gen,) (or (N, T_gen, d) with settings).
    x_true
        True trajectory (T_true, d) or (T_true,) (or (N, T_true, d) with settings).
    n_bins
        Bins per dimension (state it alongside the result: D_stsp depends on it), or the
        published settings to use.
    epsilon
        Probability of a true-occupied bin the generated trajectory never visits.

    Returns
    -------
    float
        D_stsp in nats; 0 for identical samples, >= 0 up to the epsilon substitution.
    """
    if isinstance(n_bins, DSRSettings):
        return _published_state_space_divergence(x_gen, x_true, n_bins)
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


# --------------------------------------------------------------------------------------------
# The published settings: D_stsp and D_H exactly as two reference papers computed them, so that
# our networks' numbers sit beside theirs under the same metric.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DSRSettings:
    """How D_stsp and D_H are computed: every choice that changes the number.

    D_stsp (:func:`state_space_divergence` with these settings). A box is cut into ``n_bins`` equal
    bins per coordinate (B = n_bins ** d bins); points outside the box (and non-finite ones) are
    dropped, each histogram is normalised by the points it holds, and every bin gets the Laplace
    pseudo-count ``laplace_alpha``:

        p_b = (count_true_b + alpha) / (S_true + alpha B),   q_b = (count_gen_b + alpha) / (S_gen + alpha B),
        D_stsp = KL(p || q) = sum over all B bins of p_b log(p_b / q_b)       (nats).

    D_H (:func:`power_spectrum_distance`). Per coordinate, each series (or each of its
    ``spectrum_segments`` pieces) is standardised, its one-sided power spectrum taken (the zero
    frequency included), smoothed by a sampled Gaussian of ``smoothing_sigma`` frequency bins
    truncated at ``smoothing_truncate`` sigma, with the edge rule ``smoothing_mode`` (scipy's
    names), normalised, averaged over pieces and trajectories, cut at ``frequency_cutoff`` bins;
    then the Hellinger distance H = sqrt(1 - BC), BC the Bhattacharyya coefficient sum_f sqrt(p_f q_f)
    (a trapezoid sum when ``overlap_rule == "trapezoid"``); the result is H averaged over coordinates.

    Attributes
    ----------
    name
        Short label to print beside a value (e.g. in a claim's note).
    n_bins
        Bins per coordinate.
    box
        ``"data_range"``: [min - m sd, max + m sd] of the true data per coordinate, m = ``box_sds``;
        ``"origin"``: [-h sd, h sd] about zero, h = ``box_sds`` (meaningful only for data centred
        on the origin). sd is the true data's standard deviation with ``ddof``.
    box_sds
        m or h above, in standard deviations.
    ddof
        Delta degrees of freedom of every standard deviation (box and spectra).
    laplace_alpha
        Pseudo-count added to every bin of both histograms.
    drop_first_bin
        Discard points whose index is 0 in any coordinate (a property of one published code, kept
        for comparability; the bins still count in B).
    spectrum_segments
        Each series is cut into this many equal contiguous pieces (tail dropped) whose spectra
        are averaged.
    even_length
        Drop the last sample of a piece of odd length before the FFT.
    spectrum_normalisation
        ``"sum"``: each smoothed spectrum divided by its sum; ``"parseval"``: P_k = 2 |rfft_k|^2 / n^2
        of the standardised piece, which sums to about 1 by Parseval's theorem and is not
        renormalised after smoothing or cutting.
    smoothing_sigma
        Gaussian smoothing width in frequency bins of a piece (0: none). A bin is 1 / (n dt) in
        frequency, so the same sigma smooths more on shorter series.
    smoothing_truncate
        Kernel half-width in units of sigma (scipy ``truncate``).
    smoothing_mode
        Edge rule of the smoothing, scipy ``gaussian_filter1d`` ``mode``.
    frequency_cutoff
        Keep only the first this-many frequency bins (``None``: all).
    overlap_rule
        ``"sum"`` or ``"trapezoid"`` (unit spacing) for the Bhattacharyya coefficient.
    reference_length
        Length (time steps) of the series the published values were computed on; sigma and the
        cutoff are in bins of that length (informational, nothing is rescaled).
    """

    name: str
    n_bins: int
    box: str
    box_sds: float
    ddof: int
    laplace_alpha: float
    drop_first_bin: bool
    spectrum_segments: int
    even_length: bool
    spectrum_normalisation: str
    smoothing_sigma: float
    smoothing_truncate: float
    smoothing_mode: str
    frequency_cutoff: int | None
    overlap_rule: str
    reference_length: int

    def __post_init__(self) -> None:
        if self.n_bins < 1 or self.spectrum_segments < 1 or self.laplace_alpha <= 0:
            raise ValueError(f"{self.name}: need n_bins >= 1, spectrum_segments >= 1, laplace_alpha > 0")
        if self.box not in ("data_range", "origin"):
            raise ValueError(f"{self.name}: unknown box {self.box!r}")
        if self.spectrum_normalisation not in ("sum", "parseval"):
            raise ValueError(f"{self.name}: unknown spectrum_normalisation {self.spectrum_normalisation!r}")
        if self.overlap_rule not in ("sum", "trapezoid"):
            raise ValueError(f"{self.name}: unknown overlap_rule {self.overlap_rule!r}")

    def describe(self) -> str:
        """One line naming every setting, to print beside a value."""
        box = (f"true min/max ± {self.box_sds:g} sd" if self.box == "data_range"
               else f"± {self.box_sds:g} sd about 0")
        cutoff = "all bins" if self.frequency_cutoff is None else f"first {self.frequency_cutoff} bins"
        return (f"{self.name}: D_stsp = KL(true || gen), {self.n_bins} bins/dim, box {box}, Laplace "
                f"{self.laplace_alpha:g}{', bin 0 dropped' if self.drop_first_bin else ''}; D_H: "
                f"{self.spectrum_segments} piece(s), Gaussian sigma {self.smoothing_sigma:g} bins "
                f"(truncate {self.smoothing_truncate:g}, {self.smoothing_mode} edges), "
                f"{self.spectrum_normalisation} normalisation, {cutoff}, {self.overlap_rule} overlap")


#: Mikhaeil, Monfared & Durstewitz (NeurIPS 2022), code DurstewitzLab/ChaosRNN (commit 0e84b30).
#:
#: D_stsp ("klx"), evaluation/klx.py and main_eval.py:
#: - 10 bins per dimension for the published evaluation (main_eval.py:93, ``n_bins=10``; the
#:   function's own default is 30, klx.py:128);
#: - box [-2 sd, 2 sd] about the origin, sd of the true data (torch ``std``, unbiased: ddof 1)
#:   (klx.py:100-103), whatever the data's mean;
#: - bin index = truncation of (x - min) / span * n_bins; points with an index <= 0 or >= n_bins in
#:   any coordinate are discarded (klx.py:81-93) -- so bin 0 is never filled (``coordinates > 0``);
#:   the histogram keeps all n_bins ** d cells;
#: - Laplace smoothing alpha = 10e-6 = 1e-5, p = (h + alpha) / (sum h + alpha n_bins ** d)
#:   (klx.py:106-112); an empty generated histogram gives NaN (klx.py:107-108, 68-69);
#: - KL(p_true || p_gen) = sum p_true log(p_true / p_gen) over all bins (klx.py:64-72, 128-131);
#: - the generated trajectory is 100,000 free-running steps (main_eval.py:26-30).
#:
#: D_H ("pse"), evaluation/pse.py and main_eval.py:127-156:
#: - the true and generated series (100,000 steps) are each cut into 50 pieces (main_eval.py:138-148);
#: - each piece, per dimension, standardised by its mean and (torch, unbiased) std (pse.py:39),
#:   trimmed to even length (pse.py:13-19), P = |rfft(norm='ortho')|^2 * 2 / n (pse.py:28-29);
#: - Gaussian smoothing sigma = 2 bins ("choose depending on data", pse.py:5), kernel of 10 sigma + 1
#:   taps (half-width 5 sigma), normalised, zero padded at the edges (np.convolve, pse.py:70-95);
#: - spectra averaged over the pieces (pse.py:34-44), the first 500 bins kept (pse.py:6, 55-56);
#: - BC = trapezoid rule of sqrt(p q), H = sqrt(1 - BC) per dimension, mean over dimensions
#:   (pse.py:57-67). No renormalisation: the mass beyond the cutoff and lost at the zero-padded
#:   edge lowers BC, so identical series do not score exactly 0.
#: Their Lorenz data (datasets/Lorenz/lorenz_data_chaos.npy) has mean (-0.59, -0.59, 1.19) and sd
#: (0.50, 0.59, 0.54): only 38 % of its points lie inside the origin-centred box.
MIKHAEIL_2022 = DSRSettings(
    name="mikhaeil2022", n_bins=10, box="origin", box_sds=2.0, ddof=1, laplace_alpha=1e-5,
    drop_first_bin=True, spectrum_segments=50, even_length=True, spectrum_normalisation="parseval",
    smoothing_sigma=2.0, smoothing_truncate=5.0, smoothing_mode="constant", frequency_cutoff=500,
    overlap_rule="trapezoid", reference_length=100_000,
)

#: Hess, Monfared, Brenner & Durstewitz (ICML 2023), code DurstewitzLab/GTF-shPLRNN (commit b6172ce).
#:
#: D_stsp, src/measures/stsp_measure.jl (``binning = "default"``):
#: - 30 bins per dimension (settings/defaults.json:40 ``D_stsp_bins``; every paper_experiments
#:   script, e.g. paper_experiments/EEG/Table1/shPLRNN_GTF.jl:59); the binning variant is used
#:   for observation dimension < 6, a Gaussian-mixture estimate above (stsp_measure.jl:121-122);
#: - box [min - 0.1 sd, max + 0.1 sd] of the true data per coordinate, sd = Julia ``std`` (ddof 1)
#:   (stsp_measure.jl:43-48), n_bins + 1 equally spaced edges (l. 55), StatsBase histograms:
#:   points outside are not counted (l. 58-59);
#: - Laplace smoothing alpha = 1e-5, (h + alpha) / (sum h + alpha prod(size h)) (l. 6-7, 66-67);
#:   an empty generated histogram gives NaN (l. 62-64);
#: - ``kldivergence(p, q)`` with p the true data's: KL(p_true || p_gen) over all bins (l. 69);
#: - the generated trajectory has the test set's length, started from its first point, with the
#:   first 25 % of 1.25 T steps discarded (src/evaluation.jl:199-207); the Lorenz-63 test set is
#:   100,000 steps, z-scored (ICML2023_datasets/Lorenz63/lorenz63_test.npy).
#:
#: D_H, src/measures/pse.jl:
#: - per dimension, z-scored series, P = |rfft|^2 with the zero frequency (l. 51-55);
#: - smoothing sigma = 20 bins (settings/defaults.json:42 ``PSE_smoothing``), a normalised
#:   sampled Gaussian of half-width 4 sigma (l. 79-86), edges by ImageFiltering's ``"reflect"``
#:   (l. 90), which mirrors about the edge sample without repeating it = scipy ``mode="mirror"``
#:   (the comment there says scipy's default; scipy's default ``"reflect"`` repeats the edge);
#:   small negative values set to 0 (l. 61-62); normalised to sum 1 (l. 66);
#: - H = (1/sqrt 2) ||sqrt p - sqrt q||_2 = sqrt(1 - sum sqrt(p q)) per dimension, mean over
#:   dimensions (l. 19-23, 94-95); no frequency cutoff; one series, no pieces.
HESS_2023 = DSRSettings(
    name="hess2023", n_bins=30, box="data_range", box_sds=0.1, ddof=1, laplace_alpha=1e-5,
    drop_first_bin=False, spectrum_segments=1, even_length=False, spectrum_normalisation="sum",
    smoothing_sigma=20.0, smoothing_truncate=4.0, smoothing_mode="mirror", frequency_cutoff=None,
    overlap_rule="sum", reference_length=100_000,
)

#: The published presets by name.
PUBLISHED_SETTINGS: dict[str, DSRSettings] = {"mikhaeil2022": MIKHAEIL_2022, "hess2023": HESS_2023}


def _as_points(x: np.ndarray) -> np.ndarray:
    """(T,), (T, d) or (N, T, d) -> pooled (N T, d) float64 points."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3:
        return x.reshape(-1, x.shape[-1])
    if x.ndim in (1, 2):
        return _as_2d(x)
    raise ValueError(f"need (T,), (T, d) or (N, T, d), got shape {x.shape}")


def _as_trajectories(x: np.ndarray) -> np.ndarray:
    """(T,), (T, d) or (N, T, d) -> (N, T, d) float64."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return x[None, :, None]
    if x.ndim == 2:
        return x[None]
    if x.ndim == 3:
        return x
    raise ValueError(f"need (T,), (T, d) or (N, T, d), got shape {x.shape}")


def _published_state_space_divergence(x_gen: np.ndarray, x_true: np.ndarray, settings: DSRSettings) -> float:
    """D_stsp under ``settings`` (see :class:`DSRSettings`); NaN if no generated point is in the box."""
    x_gen, x_true = _as_points(x_gen), _as_points(x_true)
    if x_gen.shape[1] != x_true.shape[1]:
        raise ValueError(f"dimension mismatch: {x_gen.shape} vs {x_true.shape}")
    n_bins, dim = settings.n_bins, x_true.shape[1]
    sd = x_true.std(axis=0, ddof=settings.ddof)
    if settings.box == "data_range":
        lo, hi = x_true.min(axis=0) - settings.box_sds * sd, x_true.max(axis=0) + settings.box_sds * sd
    else:
        lo, hi = -settings.box_sds * sd, settings.box_sds * sd
    width = np.where(hi > lo, (hi - lo) / n_bins, 1.0)
    first = 1 if settings.drop_first_bin else 0

    def occupied(x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            position = (x - lo) / width
        index = np.where(np.isfinite(position), np.floor(position), -1).astype(np.int64)
        return index[np.all((index >= first) & (index < n_bins), axis=1)]

    bins_true, bins_gen = occupied(x_true), occupied(x_gen)
    if bins_gen.shape[0] == 0 or bins_true.shape[0] == 0:
        return float("nan")
    # Only the bins either histogram fills are formed; the others (all alike) are summed at once.
    _, label = np.unique(np.concatenate([bins_true, bins_gen]), axis=0, return_inverse=True)
    label = label.reshape(-1)
    n_occupied = int(label.max()) + 1
    count_true = np.bincount(label[: bins_true.shape[0]], minlength=n_occupied)
    count_gen = np.bincount(label[bins_true.shape[0]:], minlength=n_occupied)
    alpha, n_cells = settings.laplace_alpha, float(n_bins) ** dim
    norm_true = bins_true.shape[0] + alpha * n_cells
    norm_gen = bins_gen.shape[0] + alpha * n_cells
    p, q = (count_true + alpha) / norm_true, (count_gen + alpha) / norm_gen
    p_empty, q_empty = alpha / norm_true, alpha / norm_gen
    return float(np.sum(p * np.log(p / q)) + (n_cells - n_occupied) * p_empty * np.log(p_empty / q_empty))


def power_spectrum_distance(x_gen: np.ndarray, x_true: np.ndarray, settings: DSRSettings) -> float:
    """D_H between generated and true series under ``settings`` (see :class:`DSRSettings`).

    Parameters
    ----------
    x_gen, x_true
        (T,), (T, d) or (N, T, d) with the same T and d (N may differ): full states or delay
        vectors. The spectra of all pieces of all N trajectories are averaged per coordinate
        before the distance (the published codes have one trajectory; Mikhaeil et al. average
        pieces the same way).
    settings
        A :class:`DSRSettings`, e.g. ``PUBLISHED_SETTINGS["hess2023"]``.

    Returns
    -------
    float
        Mean over coordinates of the Hellinger distance, in [0, 1]; NaN when a generated series
        has non-finite values (the published codes have no value for a diverged model either).
    """
    x_gen, x_true = _as_trajectories(x_gen), _as_trajectories(x_true)
    if x_gen.shape[1:] != x_true.shape[1:]:
        raise ValueError(f"need the same (T, d): {x_gen.shape} vs {x_true.shape}")
    if not np.all(np.isfinite(x_gen)):
        return float("nan")
    p, q = _published_spectrum(x_gen, settings), _published_spectrum(x_true, settings)
    root = np.sqrt(p * q)
    if settings.overlap_rule == "trapezoid":
        overlap = root.sum(axis=0) - 0.5 * (root[0] + root[-1])
    else:
        overlap = root.sum(axis=0)
    if settings.spectrum_normalisation == "sum" and settings.overlap_rule == "sum":
        # Equal to sqrt(1 - overlap) for normalised p, q, without its cancellation near 0.
        hellinger = np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2, axis=0))
    else:
        hellinger = np.sqrt(np.clip(1.0 - overlap, 0.0, None))
    return float(np.mean(hellinger))


def _published_spectrum(x: np.ndarray, settings: DSRSettings) -> np.ndarray:
    """(n_freq, d) spectrum of (N, T, d) series under ``settings``, averaged over pieces and N."""
    n, length, dim = x.shape
    piece = length // settings.spectrum_segments
    if piece < 3:
        raise ValueError(f"series of {length} steps is too short for {settings.spectrum_segments} pieces")
    pieces = x[:, : settings.spectrum_segments * piece].reshape(n * settings.spectrum_segments, piece, dim)
    sd = pieces.std(axis=1, ddof=settings.ddof, keepdims=True)
    z = (pieces - pieces.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)
    if settings.even_length and piece % 2:
        # Standardised first, then trimmed (the published order).
        piece -= 1
        z = z[:, :piece]
    power = np.abs(np.fft.rfft(z, axis=1)) ** 2
    if settings.spectrum_normalisation == "parseval":
        power *= 2.0 / piece**2
    if settings.smoothing_sigma > 0:
        power = gaussian_filter1d(power, settings.smoothing_sigma, axis=1, mode=settings.smoothing_mode,
                                  truncate=settings.smoothing_truncate)
        np.maximum(power, 0.0, out=power)
    if settings.spectrum_normalisation == "sum":
        total = power.sum(axis=1, keepdims=True)
        power /= np.where(total > 0, total, 1.0)
    spectrum = power.mean(axis=0)
    return spectrum if settings.frequency_cutoff is None else spectrum[: settings.frequency_cutoff]


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
