"""Takens topology of the Lorenz stage: three point clouds, their loops and their dimension.

The claim ``takens``: a network trained on x(t) alone rebuilds an attractor topologically
equivalent to Lorenz's. Three clouds are compared: (a) the true state (x, y, z), (b) the delay
embedding of x (lag from the first minimum of the auto mutual information, dimension from false
nearest neighbours) and (c) the network's states in closed loop. Each is described by its
Vietoris–Rips persistence diagrams (the dominant H1 bars are Lorenz's two lobes), its correlation
dimension D2, and, for the scalar series behind it, the fraction of false nearest neighbours.

Every cloud is normalised (:func:`rnndyn.analysis.topology.normalise_cloud`: centred, projected
onto at most ten principal components, unit RMS radius) so that filtration scales and bottleneck
distances compare between clouds in different units, and only its densest part
(:func:`rnndyn.analysis.topology.densest`) gives the landmarks of persistent homology: on Lorenz,
one passage near a fixed point C± inside a lobe shrinks that lobe's H1 bar. An H1 bar counts
(:func:`rnndyn.analysis.topology.dominant_bars`) when it is at least ``dominant_fraction`` of the
longest and longer than twice the landmarks' covering radius, below which a landmark bar need not
be a loop of the cloud (:func:`rnndyn.analysis.topology.certified_persistence`); without this
second condition a noise ball would report a loop. Beside the verdict each cloud reports the same
path without the filter (``density_keep = 1``) and the ratios r2/r1, r3/r1 of the longest H1
persistences; :func:`topology_sweep` gives the verdict over a grid of filters and fractions. D2
uses the whole cloud, over the plateau of its local slopes, with a block-bootstrap interval
(:func:`rnndyn.analysis.dimension.correlation_dimension`).

Measured on the stage's default truth clouds (16 runs x 5,000 steps of 0.01, every 10th state;
12 sets of initial conditions) with the default settings (10 neighbours, 80 % kept, fraction 0.5,
1,000 landmarks): two dominant bars for 12/12 (x, y, z) clouds and 11/12 delay clouds of x (one
gave three), r2/r1 0.56-0.96 and r3/r1 <= 0.20 (x, y, z), <= 0.56 (delay); unfiltered, two bars
for 9/12 of each (the others one or none), r3/r1 up to 0.56 and 0.89. Over filters 0.5-1.0 x
fractions 0.3-0.7 on the (x, y, z) clouds, every seed gave two bars for 70-80 % kept at fractions
0.3-0.5 (and 80 % at 0.6); 58-92 % of seeds did unfiltered. Cost per cloud (one core):
:func:`cloud_topology` 3.7-4.0 s (1.5 s per persistence computation), :func:`topology_sweep` over
six filters 8.4-9.2 s; a limit-cycle cloud of 8,000 points takes 24 s in :func:`cloud_topology`
(ripser's cost on a densely sampled loop).

The functions here read their settings from the ``lorenz.analysis.takens`` config section; the
truth job (:mod:`.lorenz_truth`) and every network's analysis (:mod:`.lorenz_analysis`) share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from rnndyn.analysis.dimension import CorrelationDimension, correlation_dimension, nolds_correlation_dimension
from rnndyn.analysis.embedding import auto_mutual_information, false_nearest_neighbours, first_minimum
from rnndyn.analysis.topology import (
    certified_persistence,
    densest,
    dominant_bars,
    farthest_point_sample,
    normalise_cloud,
    persistence_diagrams,
    persistence_ratios,
)


SWEEP_BARS = 3
"""Longest H1 persistences kept per density filter by :func:`topology_sweep`."""


@dataclass(frozen=True)
class CloudTopology:
    """Persistence and dimension of one cloud.

    Attributes
    ----------
    h0, h1
        (k, 2) birth/death pairs of the normalised landmark cloud of the dense part (``density_keep``),
        sorted by decreasing persistence.
    n_dominant_h1
        Number of dominant H1 bars of ``h1`` (:func:`rnndyn.analysis.topology.dominant_bars`,
        certified against the landmarks' resolution).
    h1_min_persistence
        Persistence an H1 bar must exceed to count (:func:`rnndyn.analysis.topology.certified_persistence`).
    h1_ratio_2, h1_ratio_3
        Persistence of the second and third longest H1 bars over the longest's.
    h1_unfiltered, n_dominant_h1_unfiltered, h1_unfiltered_min_persistence, h1_unfiltered_ratio_2,
    h1_unfiltered_ratio_3
        The same from the whole cloud (``density_keep = 1``).
    dimension
        Grassberger–Procaccia correlation dimension of the whole cloud over the plateau of its local
        slopes, with its bootstrap interval and C(r) curve
        (:func:`rnndyn.analysis.dimension.correlation_dimension`); None for a cloud without spread.
    """

    h0: np.ndarray
    h1: np.ndarray
    n_dominant_h1: int
    h1_min_persistence: float
    h1_ratio_2: float
    h1_ratio_3: float
    h1_unfiltered: np.ndarray
    n_dominant_h1_unfiltered: int
    h1_unfiltered_min_persistence: float
    h1_unfiltered_ratio_2: float
    h1_unfiltered_ratio_3: float
    dimension: CorrelationDimension | None


@dataclass(frozen=True)
class TopologySweep:
    """Dominant H1 bars of one cloud over a grid of density filters and dominance fractions.

    Attributes
    ----------
    keeps
        (K,) ``density_keep`` values.
    fractions
        (F,) ``dominant_fraction`` values.
    n_dominant
        (K, F) dominant H1 bars.
    persistence
        (K, SWEEP_BARS) the longest H1 persistences (normalised distance; 0 where fewer bars).
    min_persistence
        (K,) persistence a bar must exceed to count.
    """

    keeps: np.ndarray
    fractions: np.ndarray
    n_dominant: np.ndarray
    persistence: np.ndarray
    min_persistence: np.ndarray


def _by_persistence(diagram: np.ndarray) -> np.ndarray:
    return diagram[np.argsort(diagram[:, 0] - diagram[:, 1], kind="stable")]


def landmark_diagrams(
    cloud: np.ndarray, keep: float, cfg: dict[str, Any], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, float]:
    """H0 and H1 diagrams (sorted by decreasing persistence) of farthest-point landmarks of the densest
    fraction ``keep`` of a normalised cloud (N, d), and the persistence a bar must exceed to count.

    ``cfg``: the ``lorenz.analysis.takens`` section (``density_neighbours``, ``n_landmarks``); ``rng``
    draws the first landmark.
    """
    dense = densest(cloud, cfg["density_neighbours"], keep)
    landmarks = dense[farthest_point_sample(dense, min(cfg["n_landmarks"], dense.shape[0]), rng)]
    h0, h1 = (_by_persistence(d) for d in persistence_diagrams(landmarks, maxdim=1))
    return h0, h1, certified_persistence(dense, landmarks)


def cloud_topology(points: np.ndarray, cfg: dict[str, Any], rng: np.random.Generator) -> CloudTopology:
    """Persistent homology of landmarks of the dense part and of the whole cloud, and D2 of the whole
    time-ordered cloud.

    Parameters
    ----------
    points
        Cloud (N, d), rows in time order within each trajectory (the Theiler window of D2 and its
        block bootstrap assume it).
    cfg
        The ``lorenz.analysis.takens`` section: ``density_neighbours``, ``density_keep``,
        ``n_landmarks``, ``dominant_fraction``, ``d2_theiler_window``.
    rng
        Draws the first landmark of each landmark sample, then D2's top radius and bootstrap.
    """
    cloud = normalise_cloud(points)
    fraction = cfg["dominant_fraction"]
    h0, h1, threshold = landmark_diagrams(cloud, cfg["density_keep"], cfg, rng)
    if cfg["density_keep"] >= 1.0:
        h1_all, threshold_all = h1, threshold
    else:
        _, h1_all, threshold_all = landmark_diagrams(cloud, 1.0, cfg, rng)
    ratios, ratios_all = persistence_ratios(h1), persistence_ratios(h1_all)
    bars = {
        "h0": h0, "h1": h1,
        "n_dominant_h1": dominant_bars(h1, fraction=fraction, min_persistence=threshold),
        "h1_min_persistence": threshold, "h1_ratio_2": float(ratios[0]), "h1_ratio_3": float(ratios[1]),
        "h1_unfiltered": h1_all,
        "n_dominant_h1_unfiltered": dominant_bars(h1_all, fraction=fraction, min_persistence=threshold_all),
        "h1_unfiltered_min_persistence": threshold_all,
        "h1_unfiltered_ratio_2": float(ratios_all[0]), "h1_unfiltered_ratio_3": float(ratios_all[1]),
    }
    return CloudTopology(**bars, dimension=cloud_d2(cloud, cfg, rng))


def topology_sweep(
    points: np.ndarray,
    keeps: Sequence[float],
    fractions: Sequence[float],
    cfg: dict[str, Any],
    rng: np.random.Generator,
) -> TopologySweep:
    """Dominant H1 bars of the :func:`cloud_topology` path over density filters x dominance fractions.

    One persistence computation per ``keep`` (the landmarks of its densest part); every fraction is
    applied to that same diagram.

    Parameters
    ----------
    points
        Cloud (N, d).
    keeps
        (K,) fractions of densest points kept, each in (0, 1].
    fractions
        (F,) dominance fractions, each in (0, 1].
    cfg
        The ``lorenz.analysis.takens`` section (``density_neighbours``, ``n_landmarks``).
    rng
        Draws the first landmark of each sample.

    Returns
    -------
    TopologySweep
    """
    cloud = normalise_cloud(points)
    keeps, fractions = np.asarray(keeps, dtype=np.float64), np.asarray(fractions, dtype=np.float64)
    counts = np.zeros((keeps.size, fractions.size), dtype=np.int64)
    persistence = np.zeros((keeps.size, SWEEP_BARS))
    thresholds = np.zeros(keeps.size)
    for k, keep in enumerate(keeps):
        _, h1, thresholds[k] = landmark_diagrams(cloud, keep, cfg, rng)
        longest = (h1[:, 1] - h1[:, 0])[:SWEEP_BARS]
        persistence[k, : longest.size] = longest
        counts[k] = [dominant_bars(h1, fraction=f, min_persistence=thresholds[k]) for f in fractions]
    return TopologySweep(keeps, fractions, counts, persistence, thresholds)


def cloud_d2(points: np.ndarray, cfg: dict[str, Any], rng: np.random.Generator) -> CorrelationDimension | None:
    """Correlation dimension of a time-ordered cloud (Theiler window ``d2_theiler_window``), or
    ``None`` for a cloud that gives no correlation sum to judge (a fixed point, a few repeated
    states, too few points). A curve without a plateau gives a result with NaN D2."""
    try:
        return correlation_dimension(points, rng=rng, theiler_window=cfg["d2_theiler_window"])
    except ValueError:
        return None


def _scalar(value: float, long_name: str, units: str = "1", *, description: str) -> tuple:
    """A scalar dataset variable of one cloud, its description in the long name."""
    return (), value, {"long_name": f"{long_name} ({description})", "units": units}


def topology_variables(name: str, description: str, topo: CloudTopology) -> dict[str, tuple]:
    """Dataset variables of one cloud's topology, prefixed ``<name>_`` (diagrams NaN-padded)."""
    def bars(diagram: np.ndarray, label: str, what: str) -> tuple:
        return ((f"{name}_{label}_bar", "birth_death"), diagram,
                {"long_name": f"{what} of the {description}, by decreasing persistence",
                 "units": "normalised distance"})

    scalar = partial(_scalar, description=description)
    distance = "normalised distance"
    return {
        f"{name}_h0": bars(topo.h0, "h0", "H0 persistence diagram"),
        f"{name}_h1": bars(topo.h1, "h1", "H1 persistence diagram"),
        f"{name}_n_dominant_h1": ((), topo.n_dominant_h1,
                                  {"long_name": f"dominant H1 bars of the {description}", "units": "1"}),
        f"{name}_h1_min_persistence": scalar(topo.h1_min_persistence,
                                             "persistence an H1 bar must exceed: twice the landmarks' covering radius",
                                             distance),
        f"{name}_h1_ratio_2": scalar(topo.h1_ratio_2, "second longest H1 persistence over the longest"),
        f"{name}_h1_ratio_3": scalar(topo.h1_ratio_3, "third longest H1 persistence over the longest"),
        f"{name}_h1_unfiltered": bars(topo.h1_unfiltered, "h1_unfiltered",
                                      "H1 persistence diagram without the density filter"),
        f"{name}_n_dominant_h1_unfiltered": scalar(topo.n_dominant_h1_unfiltered,
                                                   "dominant H1 bars without the density filter"),
        f"{name}_h1_unfiltered_min_persistence": scalar(
            topo.h1_unfiltered_min_persistence,
            "persistence an H1 bar must exceed without the density filter", distance),
        f"{name}_h1_unfiltered_ratio_2": scalar(topo.h1_unfiltered_ratio_2,
                                                "second longest H1 persistence over the longest, unfiltered"),
        f"{name}_h1_unfiltered_ratio_3": scalar(topo.h1_unfiltered_ratio_3,
                                                "third longest H1 persistence over the longest, unfiltered"),
        **d2_variables(name, description, topo.dimension),
    }


def d2_variables(name: str, description: str, d2: CorrelationDimension | None) -> dict[str, tuple]:
    """Dataset variables of one cloud's correlation dimension, prefixed ``<name>_d2`` (NaN and empty
    curves for a cloud without spread): D2, its bootstrap interval, plateau and C(r) curve."""
    scalar = partial(_scalar, description=description)
    def curve(values: np.ndarray, long_name: str, units: str = "1") -> tuple:
        return ((f"{name}_d2_r",), values, {"long_name": f"{long_name} ({description})", "units": units})

    nan, empty = float("nan"), np.empty(0)
    distance = "normalised distance"
    return {
        f"{name}_d2": scalar(nan if d2 is None else d2.dimension, "correlation dimension D2"),
        f"{name}_d2_low": scalar(nan if d2 is None else d2.low, "D2, lower end of the 95 % block-bootstrap interval"),
        f"{name}_d2_high": scalar(nan if d2 is None else d2.high,
                                  "D2, upper end of the 95 % block-bootstrap interval"),
        f"{name}_d2_r_min": scalar(nan if d2 is None else d2.r_min, "smallest radius of the D2 plateau", distance),
        f"{name}_d2_r_max": scalar(nan if d2 is None else d2.r_max, "largest radius of the D2 plateau", distance),
        f"{name}_d2_support": scalar(nan if d2 is None else d2.support,
                                     "fraction of bootstrap replicates with a D2 plateau"),
        f"{name}_d2_radius": curve(empty if d2 is None else d2.radii, "radius r of the correlation sum", distance),
        f"{name}_d2_correlation_sum": curve(empty if d2 is None else d2.correlation_sum, "correlation sum C(r)"),
        f"{name}_d2_local_slope": curve(empty if d2 is None else d2.local_slope,
                                        "local slope d log C / d log r over one octave"),
        f"{name}_d2_in_fit": curve(empty.astype(bool) if d2 is None else d2.in_fit, "radius in the D2 plateau"),
    }


def sweep_variables(name: str, description: str, sweep: TopologySweep) -> dict[str, tuple]:
    """Dataset variables of one cloud's :class:`TopologySweep`, prefixed ``<name>_``, with the grid as
    the coordinates ``sweep_keep`` and ``sweep_fraction`` (shared by every cloud swept on the same grid)."""
    return {
        "sweep_keep": (("sweep_keep",), sweep.keeps,
                       {"long_name": "fraction of densest points kept (density_keep)", "units": "1"}),
        "sweep_fraction": (("sweep_fraction",), sweep.fractions,
                           {"long_name": "dominance fraction (dominant_fraction)", "units": "1"}),
        f"{name}_sweep_n_dominant_h1": (("sweep_keep", "sweep_fraction"), sweep.n_dominant,
                                        {"long_name": f"dominant H1 bars of the {description}", "units": "1"}),
        f"{name}_sweep_h1_persistence": (("sweep_keep", "h1_rank"), sweep.persistence,
                                         {"long_name": f"longest H1 persistences of the {description}",
                                          "units": "normalised distance"}),
        f"{name}_sweep_h1_min_persistence": (("sweep_keep",), sweep.min_persistence,
                                             {"long_name": f"persistence an H1 bar must exceed ({description})",
                                              "units": "normalised distance"}),
    }


def ami_lag(x: np.ndarray, cfg: dict[str, Any]) -> tuple[int, np.ndarray]:
    """Delay from the first minimum of the auto mutual information averaged over series (N, T).

    Returns the lag (steps) and the averaged AMI (max_lag + 1,) in nats.
    """
    ami = np.mean([auto_mutual_information(series, cfg["ami_max_lag"], cfg["ami_bins"]) for series in x], axis=0)
    return first_minimum(ami), ami


def fnn_fractions(x: np.ndarray, lag: int, cfg: dict[str, Any]) -> np.ndarray:
    """False-nearest-neighbour fractions (len(fnn_dims),) averaged over the first
    ``fnn_trajectories`` series of ``x`` (N, T) (Kennel et al. 1992, Theiler window excluded)."""
    series = x[: cfg["fnn_trajectories"]]
    return np.mean([false_nearest_neighbours(s, cfg["fnn_dims"], lag, theiler_window=cfg["fnn_theiler_window"])
                    for s in series], axis=0)


def nolds_d2(x: np.ndarray, lag: int, cfg: dict[str, Any]) -> np.ndarray:
    """nolds' correlation dimension of each of the first ``nolds_series`` series of ``x`` (N, T),
    the scalar cross-check: their spread is the estimate's interval (independent trajectories).

    Each series is thinned by ``nolds_stride`` (the lag scaled accordingly) and cut to
    ``nolds_points`` samples: nolds builds the full distance matrix.

    Returns
    -------
    numpy.ndarray
        D2 per series (min(N, nolds_series),).
    """
    stride = cfg["nolds_stride"]
    return np.array([nolds_correlation_dimension(series[::stride][: cfg["nolds_points"]], cfg["nolds_emb_dim"],
                                                 lag=max(1, round(lag / stride)))
                     for series in x[: cfg["nolds_series"]]])


def scalar_variables(name: str, description: str, fractions: np.ndarray, d2_nolds: np.ndarray) -> dict[str, tuple]:
    """Dataset variables of the scalar checks of one series (FNN curve, nolds D2 per series with its
    median and range)."""
    low, high = (np.nan, np.nan) if np.isnan(d2_nolds).all() else (np.nanmin(d2_nolds), np.nanmax(d2_nolds))
    return {
        f"{name}_fnn": (("fnn_dim",), fractions,
                        {"long_name": f"false-nearest-neighbour fraction of {description}", "units": "1"}),
        f"{name}_d2_nolds": ((), np.nan if np.isnan(d2_nolds).all() else float(np.nanmedian(d2_nolds)),
                             {"long_name": f"nolds.corr_dim of {description} (cross-check), median over series",
                              "units": "1"}),
        f"{name}_d2_nolds_low": ((), low, {"long_name": f"nolds.corr_dim of {description}, smallest over series",
                                           "units": "1"}),
        f"{name}_d2_nolds_high": ((), high, {"long_name": f"nolds.corr_dim of {description}, largest over series",
                                             "units": "1"}),
    }

