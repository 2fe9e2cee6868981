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
one passage near a fixed point C± inside a lobe shrinks that lobe's H1 bar (measured on 800 time
units of trajectory: the second H1 bar ranged from 0.4 to 0.95 of the first over initial
conditions; with 10 neighbours and 80 % kept it stayed at 0.56–0.94 of the first and noise bars
below 0.5 over six sets of initial conditions). D2 uses the whole cloud.

The functions here read their settings from the ``lorenz.analysis.takens`` config section; the
truth job (:mod:`.lorenz_truth`) and every network's analysis (:mod:`.lorenz_analysis`) share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnndyn.analysis.dimension import CorrelationDimension, correlation_dimension, nolds_correlation_dimension
from rnndyn.analysis.embedding import auto_mutual_information, false_nearest_neighbours, first_minimum
from rnndyn.analysis.topology import (
    densest,
    dominant_bars,
    farthest_point_sample,
    normalise_cloud,
    persistence_diagrams,
)


@dataclass(frozen=True)
class CloudTopology:
    """Persistence and dimension of one cloud.

    Attributes
    ----------
    h0, h1
        (k, 2) birth/death pairs of the normalised landmark cloud, sorted by decreasing persistence.
    n_dominant_h1
        Number of dominant H1 bars (:func:`rnndyn.analysis.topology.dominant_bars`).
    d2
        Grassberger–Procaccia correlation dimension of the whole (subsampled) cloud.
    d2_radii, d2_correlation_sum, d2_in_fit
        The C(r) curve behind ``d2``.
    """

    h0: np.ndarray
    h1: np.ndarray
    n_dominant_h1: int
    d2: float
    d2_radii: np.ndarray
    d2_correlation_sum: np.ndarray
    d2_in_fit: np.ndarray


def _by_persistence(diagram: np.ndarray) -> np.ndarray:
    return diagram[np.argsort(diagram[:, 0] - diagram[:, 1], kind="stable")]


def cloud_topology(points: np.ndarray, cfg: dict[str, Any], rng: np.random.Generator) -> CloudTopology:
    """Persistent homology of landmarks of the dense part and D2 of the whole time-ordered cloud.

    Parameters
    ----------
    points
        Cloud (N, d), rows in time order within each trajectory (the Theiler window of D2
        assumes it).
    cfg
        The ``lorenz.analysis.takens`` section: ``density_neighbours``, ``density_keep``,
        ``n_landmarks``, ``dominant_fraction``, ``d2_theiler_window``.
    rng
        Draws the first landmark and the pairs placing D2's radii.
    """
    cloud = normalise_cloud(points)
    dense = densest(cloud, cfg["density_neighbours"], cfg["density_keep"])
    landmarks = dense[farthest_point_sample(dense, min(cfg["n_landmarks"], dense.shape[0]), rng)]
    h0, h1 = (_by_persistence(d) for d in persistence_diagrams(landmarks, maxdim=1))
    n_dominant = dominant_bars(h1, fraction=cfg["dominant_fraction"])
    d2 = cloud_d2(cloud, cfg, rng)
    if d2 is None:
        empty = np.empty(0)
        return CloudTopology(h0, h1, n_dominant, float("nan"), empty, empty, empty.astype(bool))
    return CloudTopology(h0, h1, n_dominant, d2.dimension, d2.radii, d2.correlation_sum, d2.in_fit)


def cloud_d2(points: np.ndarray, cfg: dict[str, Any], rng: np.random.Generator) -> CorrelationDimension | None:
    """Correlation dimension of a time-ordered cloud (Theiler window ``d2_theiler_window``), or
    ``None`` for a degenerate cloud (a fixed point, a few repeated states) without scaling region."""
    try:
        return correlation_dimension(points, rng=rng, theiler_window=cfg["d2_theiler_window"])
    except ValueError:
        return None


def topology_variables(name: str, description: str, topo: CloudTopology) -> dict[str, tuple]:
    """Dataset variables of one cloud's topology, prefixed ``<name>_`` (diagrams NaN-padded)."""
    def bars(diagram: np.ndarray, dim: int) -> tuple:
        return ((f"{name}_h{dim}_bar", "birth_death"), diagram,
                {"long_name": f"H{dim} persistence diagram of the {description}, by decreasing persistence",
                 "units": "normalised distance"})
    return {
        f"{name}_h0": bars(topo.h0, 0),
        f"{name}_h1": bars(topo.h1, 1),
        f"{name}_n_dominant_h1": ((), topo.n_dominant_h1,
                                  {"long_name": f"dominant H1 bars of the {description}", "units": "1"}),
        f"{name}_d2": ((), topo.d2, {"long_name": f"correlation dimension D2 of the {description}",
                                     "units": "1"}),
        f"{name}_d2_radius": ((f"{name}_d2_r",), topo.d2_radii,
                              {"long_name": f"radius r of the correlation sum ({description})",
                               "units": "normalised distance"}),
        f"{name}_d2_correlation_sum": ((f"{name}_d2_r",), topo.d2_correlation_sum,
                                       {"long_name": f"correlation sum C(r) ({description})", "units": "1"}),
        f"{name}_d2_in_fit": ((f"{name}_d2_r",), topo.d2_in_fit,
                              {"long_name": f"radius in the D2 scaling region ({description})", "units": "1"}),
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


def nolds_d2(x: np.ndarray, lag: int, cfg: dict[str, Any]) -> float:
    """nolds' correlation dimension of the first series of ``x`` (N, T), the scalar cross-check.

    The series is thinned by ``nolds_stride`` (the lag scaled accordingly) and cut to
    ``nolds_points`` samples: nolds builds the full distance matrix.
    """
    stride = cfg["nolds_stride"]
    series = x[0, ::stride][: cfg["nolds_points"]]
    return nolds_correlation_dimension(series, cfg["nolds_emb_dim"], lag=max(1, round(lag / stride)))


def scalar_variables(name: str, description: str, fractions: np.ndarray, d2_nolds: float) -> dict[str, tuple]:
    """Dataset variables of the scalar checks of one series (FNN curve, nolds D2)."""
    return {
        f"{name}_fnn": (("fnn_dim",), fractions,
                        {"long_name": f"false-nearest-neighbour fraction of {description}", "units": "1"}),
        f"{name}_d2_nolds": ((), d2_nolds,
                             {"long_name": f"nolds.corr_dim of {description} (cross-check)", "units": "1"}),
    }

