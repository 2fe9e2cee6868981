"""Persistent homology of point clouds: the loops of an attractor and distances between diagrams.

A Vietoris-Rips filtration (ripser; Bauer 2021) of a point cloud gives one persistence diagram per
homology dimension; a long H1 bar is a loop that exists over a wide range of scales. Lorenz's
attractor has two lobes, hence two dominant H1 bars, whether the cloud is the true (x, y, z)
state, a delay embedding of x or the hidden states of a network that learned the dynamics.

Ripser's cost grows quickly with the number of points (1,000 / 2,000 points with maxdim 1 take about
1 s / 5 s here), so clouds are first standardised and thinned by farthest-point sampling, which
keeps the shape at the resolution of the sample's covering radius.

Normalisation. To compare clouds in different units (a state and a network's hidden state), a
cloud is centred, projected onto its leading principal components and scaled isotropically to
unit RMS radius (:func:`normalise_cloud`): filtration scales and bottleneck distances become
comparable, while the shape is kept (a per-coordinate standardisation, :func:`standardise`, would
inflate a network's low-variance state directions to the size of the attractor).

Density filter. Farthest-point sampling picks the most isolated points first; on Lorenz those are
the rare passages close to the fixed points C±, inside the holes of the lobes, and a single one
shrinks a lobe's H1 bar. As in topological inference on sampled data (the codensity filter of
Carlsson et al. 2008), :func:`densest` keeps only the points closest to their k-th nearest
neighbour before landmarks are chosen.

Significance. Landmarks stand for the cloud only down to their covering radius eps; a landmark
bar no longer than 2 eps may be an artefact of the sample (:func:`certified_persistence`) and is
never counted as a loop (:func:`dominant_bars`), which lets a cloud without loops (a noise ball)
report none.

References
----------
U. Bauer, "Ripser: efficient computation of Vietoris-Rips persistence barcodes", J. Appl. Comput.
Topol. 5, 391 (2021).
H. Edelsbrunner, J. Harer, "Computational Topology: An Introduction", AMS (2010).
D. Cohen-Steiner, H. Edelsbrunner, J. Harer, "Stability of persistence diagrams", Discrete Comput.
Geom. 37, 103 (2007).
G. Carlsson, T. Ishkhanov, V. de Silva, A. Zomorodian, "On the local behavior of spaces of natural
images", Int. J. Comput. Vis. 76, 1 (2008).
F. Chazal, V. de Silva, S. Oudot, "Persistence stability for geometric complexes", Geom. Dedicata
173, 193 (2014).
"""

from __future__ import annotations

import numpy as np
import persim
from ripser import ripser
from scipy.spatial import cKDTree

from rnndyn.analysis.pca import principal_axes

MAX_COMPONENTS = 10
"""Principal components a cloud keeps in :func:`normalise_cloud` (a typical projection into R^m keeps
D2 for m >= D2, Sauer & Yorke 1997; 10 leaves room for a network's curved embedding)."""


def standardise(points: np.ndarray) -> np.ndarray:
    """Shift each coordinate to mean 0 and scale it to standard deviation 1.

    Makes distances (and so filtration scales) comparable between clouds in different units, e.g.
    the Lorenz state and a network's hidden states. A constant coordinate is left at 0.

    Parameters
    ----------
    points
        Cloud (N, d).

    Returns
    -------
    numpy.ndarray
        (N, d) float64.
    """
    points = np.asarray(points, dtype=np.float64)
    centred = points - points.mean(axis=0)
    std = centred.std(axis=0)
    return centred / np.where(std > 0, std, 1.0)


def normalise_cloud(points: np.ndarray, n_components: int = MAX_COMPONENTS) -> np.ndarray:
    """Centre, project onto the leading principal components, scale to unit RMS radius.

    Parameters
    ----------
    points
        Cloud (N, d).
    n_components
        Principal components kept (at most ``min(N, d)``).

    Returns
    -------
    numpy.ndarray
        (N, min(N, d, n_components)) with ``mean(|p|^2) = 1``; a cloud of one repeated point (a
        network collapsed onto a fixed point) has no scale to remove and comes back as zeros.
    """
    points = np.asarray(points, dtype=np.float64)
    mean, axes, _ = principal_axes(points, n_components)
    projected = (points - mean) @ axes.T
    radius = np.sqrt(np.mean(np.sum(projected**2, axis=1)))
    return projected / radius if radius > 0 else projected


def densest(points: np.ndarray, neighbours: int, keep: float) -> np.ndarray:
    """The fraction ``keep`` of points (N, d) closest to their ``neighbours``-th nearest neighbour.

    Returns the kept points (at least ``neighbours + 1`` of them), in their original order; all of
    them when ``keep >= 1`` or the cloud has a single point.
    """
    k = min(neighbours, points.shape[0] - 1)
    if keep >= 1.0 or k < 1:
        return points
    distance = cKDTree(points).query(points, k=k + 1)[0][:, -1]
    n_keep = max(int(np.ceil(keep * points.shape[0])), k + 1)
    return points[np.sort(np.argsort(distance, kind="stable")[:n_keep])]


def farthest_point_sample(points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of a greedy max-min (farthest-point) subsample.

    Starting from a random point, repeatedly adds the point farthest from those chosen so far
    (Gonzalez 1985). The sample covers the cloud within twice the optimal covering radius, so
    persistence diagrams of the sample are close to those of the cloud in bottleneck distance.

    Parameters
    ----------
    points
        Cloud (N, d).
    n
        Number of points to keep, 1 <= n <= N.
    rng
        Chooses the first point.

    Returns
    -------
    numpy.ndarray
        (n,) distinct integer indices into ``points``, in the order chosen.
    """
    points = np.asarray(points, dtype=np.float64)
    if not 1 <= n <= points.shape[0]:
        raise ValueError(f"n must be in [1, {points.shape[0]}], got {n}")
    chosen = np.empty(n, dtype=np.int64)
    chosen[0] = rng.integers(points.shape[0])
    distance = np.linalg.norm(points - points[chosen[0]], axis=1)
    for k in range(1, n):
        chosen[k] = np.argmax(distance)
        np.minimum(distance, np.linalg.norm(points - points[chosen[k]], axis=1), out=distance)
    return chosen


def persistence_diagrams(points: np.ndarray, maxdim: int = 1) -> list[np.ndarray]:
    """Vietoris-Rips persistence diagrams (ripser), without the essential H0 bar.

    Every nonempty cloud has exactly one H0 class that never dies (birth 0, death infinity): it
    records that the cloud is connected at large scale and carries no scale. It is dropped, so that
    every returned bar is finite and diagram distances are not dominated by an infinite bar. With
    no distance threshold no other bar is infinite.

    Parameters
    ----------
    points
        Cloud (N, d), typically standardised and farthest-point sampled (ripser's cost grows
        steeply with N).
    maxdim
        Largest homology dimension.

    Returns
    -------
    list of numpy.ndarray
        ``maxdim + 1`` arrays (k_dim, 2) of (birth, death) pairs in the cloud's distance units;
        entry 0 holds the finite H0 bars (N - 1 of them for distinct points).
    """
    diagrams = ripser(np.asarray(points, dtype=np.float64), maxdim=maxdim)["dgms"]
    return [dgm[np.isfinite(dgm[:, 1])] for dgm in diagrams]


def dominant_bars(diagram: np.ndarray, *, fraction: float = 0.5, min_persistence: float = 0.0) -> int:
    """Number of dominant bars: significant bars at least ``fraction`` as persistent as the most
    persistent.

    Criterion: bar k is dominant if (death_k - birth_k) > ``min_persistence`` and
    (death_k - birth_k) >= fraction * max persistence. The relative part is scale-free and needs
    no noise model. Bars from sampling noise are short compared with a loop of the attractor:
    their persistence is of the order of the sample's covering radius, while a loop persists over
    a large part of its own diameter. With ``fraction = 0.5`` two loops count as two dominant bars
    while the smaller one is at least half as persistent as the larger; Lorenz's lobes are mirror
    images (the equations are symmetric under (x, y, z) -> (-x, -y, z)) and a faithful
    reconstruction keeps their bars of comparable length. The relative part alone does not detect
    absence: a diagram of pure noise has at least one "dominant" bar. ``min_persistence`` supplies
    the absolute part, e.g. the resolution of a landmark sample (:func:`certified_persistence`):
    bars no longer than it may be artefacts of the sample and are never dominant.

    Parameters
    ----------
    diagram
        (k, 2) birth/death pairs of one homology dimension (finite deaths).
    fraction
        Threshold relative to the largest persistence, in (0, 1].
    min_persistence
        Persistence a bar must exceed, in the diagram's distance units, >= 0.

    Returns
    -------
    int
        The number of dominant bars; 0 for an empty diagram.
    """
    diagram = np.asarray(diagram, dtype=np.float64).reshape(-1, 2)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if min_persistence < 0:
        raise ValueError(f"min_persistence must be >= 0, got {min_persistence}")
    if diagram.shape[0] == 0:
        return 0
    persistence = diagram[:, 1] - diagram[:, 0]
    dominant = (persistence >= fraction * persistence.max()) & (persistence > min_persistence)
    return int(np.count_nonzero(dominant))


def certified_persistence(points: np.ndarray, landmarks: np.ndarray) -> float:
    """Persistence up to which a bar of the landmarks' Rips diagram may be an artefact of the sample.

    Let the landmarks L be a subset of the cloud X at Hausdorff distance eps (the covering radius:
    every point of X within eps of a landmark). With Vietoris-Rips filtrations indexed by edge
    length (as ripser's), Rips_r(L) is a subcomplex of Rips_r(X), and mapping each point to a
    nearest landmark sends Rips_r(X) into Rips_{r + 2 eps}(L), with both composites contiguous to
    the inclusions: the persistence modules are (0, 2 eps)-interleaved. Shifting L's filtration by
    eps makes this an eps-interleaving, so L's diagram, shifted along the diagonal, lies within
    bottleneck distance eps of X's (Chazal, de Silva & Oudot 2014). A bar of persistence p is p / 2
    from the diagonal in the L-infinity metric: a landmark bar with p <= 2 eps may be matched to the
    diagonal, i.e. need not correspond to any loop of the cloud; a longer one matches a bar of the
    cloud at least p - 2 eps long.

    Parameters
    ----------
    points
        Cloud (N, d) the landmarks were chosen from.
    landmarks
        (n, d) rows of ``points``.

    Returns
    -------
    float
        2 eps, in the cloud's distance units (0 when every point is a landmark).
    """
    return 2.0 * float(cKDTree(landmarks).query(points)[0].max())


def persistence_ratios(diagram: np.ndarray, n_bars: int = 3) -> np.ndarray:
    """Persistence of the 2nd .. ``n_bars``-th longest bars over the longest's.

    A bar the diagram lacks has persistence 0 (it lies on the diagonal).

    Parameters
    ----------
    diagram
        (k, 2) birth/death pairs (finite deaths).
    n_bars
        Bars compared, >= 2.

    Returns
    -------
    numpy.ndarray
        (n_bars - 1,) ratios in [0, 1]; NaN for a diagram without bars of positive persistence.
    """
    diagram = np.asarray(diagram, dtype=np.float64).reshape(-1, 2)
    persistence = np.zeros(max(n_bars, diagram.shape[0]))
    persistence[: diagram.shape[0]] = np.sort(diagram[:, 1] - diagram[:, 0])[::-1]
    if persistence[0] <= 0:
        return np.full(n_bars - 1, np.nan)
    return persistence[1:n_bars] / persistence[0]


def bottleneck_distance(dgm_a: np.ndarray, dgm_b: np.ndarray) -> float:
    """Bottleneck distance between two persistence diagrams (persim).

    The infimum over matchings (bars may be matched to the diagonal) of the largest L-infinity
    distance between matched points; stable under perturbations of the cloud (Cohen-Steiner,
    Edelsbrunner & Harer 2007).

    Parameters
    ----------
    dgm_a, dgm_b
        (k_a, 2) and (k_b, 2) finite birth/death pairs of the same homology dimension.

    Returns
    -------
    float
        The distance, in the diagrams' distance units.
    """
    return float(persim.bottleneck(_finite(dgm_a), _finite(dgm_b)))


def wasserstein_distance(dgm_a: np.ndarray, dgm_b: np.ndarray) -> float:
    """Wasserstein-1 distance between two persistence diagrams (persim).

    The infimum over matchings of the sum of matched distances, with persim's Euclidean ground
    metric (a bar's cost against the diagonal is persistence / sqrt(2)).

    Parameters
    ----------
    dgm_a, dgm_b
        (k_a, 2) and (k_b, 2) finite birth/death pairs of the same homology dimension.

    Returns
    -------
    float
        The distance, in the diagrams' distance units.
    """
    return float(persim.wasserstein(_finite(dgm_a), _finite(dgm_b)))


def _finite(diagram: np.ndarray) -> np.ndarray:
    diagram = np.asarray(diagram, dtype=np.float64).reshape(-1, 2)
    if not np.all(np.isfinite(diagram)):
        raise ValueError("diagram has infinite bars; drop them first (see persistence_diagrams)")
    return diagram
