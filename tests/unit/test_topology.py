"""Persistent homology of point clouds and diagram distances (claim `takens`)."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from rnndyn.analysis.embedding import delay_embedding
from rnndyn.analysis.topology import (
    MAX_COMPONENTS,
    bottleneck_distance,
    certified_persistence,
    densest,
    dominant_bars,
    farthest_point_sample,
    normalise_cloud,
    persistence_diagrams,
    persistence_ratios,
    standardise,
    wasserstein_distance,
)


def _lorenz(n: int, dt: float) -> np.ndarray:
    """Lorenz-63 states (n, 3) (sigma 10, rho 28, beta 8/3) at spacing dt after a 20-time-unit transient."""

    def field(_, s):
        return [10.0 * (s[1] - s[0]), s[0] * (28.0 - s[2]) - s[1], s[0] * s[1] - 8.0 / 3.0 * s[2]]

    t = 20.0 + dt * np.arange(n)
    sol = solve_ivp(field, (0.0, t[-1]), [1.0, 1.0, 1.0], t_eval=t, method="DOP853", rtol=1e-9, atol=1e-9)
    return sol.y.T


@pytest.fixture(scope="module")
def lorenz():
    return _lorenz(10_000, 0.01)


def _h1_of_lorenz_cloud(cloud: np.ndarray, seed: int) -> np.ndarray:
    z = standardise(cloud)
    return persistence_diagrams(z[farthest_point_sample(z, 500, np.random.default_rng(seed))])[1]


def test_standardise_gives_zero_mean_unit_variance_and_keeps_constant_columns():
    points = np.column_stack([np.arange(10.0), 3.0 * np.arange(10.0) + 7.0, np.full(10, 5.0)])
    z = standardise(points)
    # Affine rescaling of exact small integers: round-off only.
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(z[:, :2].std(axis=0), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(z[:, 2], 0.0)


def test_farthest_point_sample_is_greedy_maxmin():
    points = np.random.default_rng(0).uniform(size=(300, 2))
    chosen = farthest_point_sample(points, 300, np.random.default_rng(1))
    assert np.array_equal(np.sort(chosen), np.arange(300))  # n = N: a permutation
    # The second point is the one farthest from the first.
    distance = np.linalg.norm(points - points[chosen[0]], axis=1)
    assert chosen[1] == np.argmax(distance)


def test_farthest_point_sample_keeps_the_extremes_of_a_segment():
    points = np.linspace(0.0, 1.0, 101)[:, None]
    chosen = farthest_point_sample(points, 2, np.random.default_rng(3))
    # Whatever the first point, the second is the farther end of the segment.
    assert chosen[1] in (0, 100) and abs(points[chosen[1], 0] - points[chosen[0], 0]) >= 0.5


def test_h0_deaths_are_the_minimum_spanning_tree_edges():
    diagrams = persistence_diagrams(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]]), maxdim=0)
    # Rips H0 bars die at the MST edge lengths (1 and 3); the essential bar is dropped.
    np.testing.assert_allclose(diagrams[0], [[0.0, 1.0], [0.0, 3.0]], rtol=1e-6)


def test_evenly_spaced_circle_has_one_bar_from_chord_to_triangle_side():
    n = 60
    angle = 2 * np.pi * np.arange(n) / n
    h1 = persistence_diagrams(np.column_stack([np.cos(angle), np.sin(angle)]))[1]
    # Exact (Adamaszek & Adams 2017): the loop is born with the nearest-neighbour chord 2 sin(pi / n)
    # and filled when the inscribed equilateral triangle's side sqrt(3) appears (n divisible by 3).
    # rtol: ripser stores distances in single precision.
    np.testing.assert_allclose(h1, [[2 * np.sin(np.pi / n), np.sqrt(3.0)]], rtol=1e-6)


def test_noisy_circle_has_one_dominant_bar():
    rng = np.random.default_rng(4)
    angle = rng.uniform(0, 2 * np.pi, 300)
    points = np.column_stack([np.cos(angle), np.sin(angle)]) + 0.05 * rng.standard_normal((300, 2))
    assert dominant_bars(persistence_diagrams(points)[1]) == 1


def test_figure_eight_has_two_dominant_bars():
    rng = np.random.default_rng(5)
    angle = rng.uniform(0, 2 * np.pi, 400)
    # Two unit circles touching at the origin.
    centre = np.where(np.arange(400) < 200, -1.0, 1.0)
    points = np.column_stack([centre + np.cos(angle), np.sin(angle)]) + 0.03 * rng.standard_normal((400, 2))
    assert dominant_bars(persistence_diagrams(points)[1]) == 2


def test_lorenz_attractor_has_two_dominant_loops(lorenz):
    assert dominant_bars(_h1_of_lorenz_cloud(lorenz, seed=6)) == 2


def test_delay_embedding_of_lorenz_x_has_two_dominant_loops(lorenz):
    assert dominant_bars(_h1_of_lorenz_cloud(delay_embedding(lorenz[:, 0], 3, 16), seed=7)) == 2


def test_dominant_bars_counts_relative_to_the_most_persistent():
    diagram = np.array([[0.0, 1.0], [0.1, 0.7], [0.2, 0.4], [0.0, 0.05]])  # persistences 1, .6, .2, .05
    assert dominant_bars(diagram) == 2
    assert dominant_bars(diagram, fraction=0.1) == 3
    assert dominant_bars(10.0 * diagram) == 2  # scale-free
    assert dominant_bars(np.empty((0, 2))) == 0


def test_dominant_bars_must_exceed_the_certified_persistence():
    diagram = np.array([[0.0, 1.0], [0.1, 0.7], [0.2, 0.4]])  # persistences 1, .6, .2
    assert dominant_bars(diagram, min_persistence=0.5) == 2
    assert dominant_bars(diagram, min_persistence=0.6) == 1  # strictly longer than the threshold
    # Noise only: every bar below the threshold, none dominant, though the longest is "dominant"
    # relative to itself.
    assert dominant_bars(diagram, min_persistence=1.0) == 0
    with pytest.raises(ValueError):
        dominant_bars(diagram, min_persistence=-0.1)


def test_certified_persistence_is_two_covering_radii():
    points = np.linspace(0.0, 1.0, 11)[:, None]  # spacing 0.1
    # Landmarks 0, 0.4, 1: the farthest point from them is 0.7 (0.3 from 0.4 and from 1).
    landmarks = points[[0, 4, 10]]
    assert certified_persistence(points, landmarks) == pytest.approx(2 * 0.3, abs=1e-12)
    assert certified_persistence(points, points) == 0.0


def test_persistence_ratios():
    diagram = np.array([[0.2, 0.4], [0.0, 1.0], [0.1, 0.7]])  # persistences .2, 1, .6, unsorted
    np.testing.assert_allclose(persistence_ratios(diagram), [0.6, 0.2], rtol=1e-12)
    # A missing bar lies on the diagonal: persistence 0.
    np.testing.assert_allclose(persistence_ratios(diagram[1:2]), [0.0, 0.0])
    assert np.all(np.isnan(persistence_ratios(np.empty((0, 2)))))


def test_diagram_distances_of_a_diagram_with_itself_are_zero(lorenz):
    h1 = _h1_of_lorenz_cloud(lorenz, seed=8)
    assert bottleneck_distance(h1, h1) == 0.0
    assert wasserstein_distance(h1, h1) == 0.0


def test_diagram_distances_of_single_bars():
    a, b = np.array([[0.0, 1.0]]), np.array([[0.0, 2.0]])
    # Matching the bars costs max(|0 - 0|, |1 - 2|) = 1; sending both to the diagonal costs
    # max(1/2, 2/2) = 1: the bottleneck distance is 1.
    assert bottleneck_distance(a, b) == pytest.approx(1.0, abs=1e-12)
    # The bar (0, 2) against an empty diagram: its L-infinity distance to the diagonal, 1.
    assert bottleneck_distance(b, np.empty((0, 2))) == pytest.approx(1.0, abs=1e-12)
    # Wasserstein-1 with persim's Euclidean ground metric: |(0, 2) - (1, 1)| = sqrt(2).
    assert wasserstein_distance(b, np.empty((0, 2))) == pytest.approx(np.sqrt(2.0), abs=1e-12)


def test_diagram_distances_reject_infinite_bars():
    with pytest.raises(ValueError):
        bottleneck_distance(np.array([[0.0, np.inf]]), np.array([[0.0, 1.0]]))


def test_normalised_cloud_has_unit_radius_and_ignores_rotation():
    rng = np.random.default_rng(0)
    points = rng.standard_normal((200, 3)) * [5.0, 1.0, 0.2] + 7.0
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    a, b = normalise_cloud(points), normalise_cloud(points @ q.T)
    assert np.mean(np.sum(a**2, axis=1)) == pytest.approx(1.0, rel=1e-12)
    # Pairwise distances are what persistent homology sees: rotation changes none of them.
    dist = lambda p: np.linalg.norm(p[:, None] - p[None], axis=-1)  # noqa: E731
    np.testing.assert_allclose(dist(a), dist(b), atol=1e-12)
    assert np.all(normalise_cloud(np.ones((10, 4))) == 0.0)


def test_normalised_cloud_keeps_the_leading_components():
    rng = np.random.default_rng(2)
    scales = np.arange(MAX_COMPONENTS + 2, 0, -1.0)
    points = rng.standard_normal((500, scales.size)) * scales
    cloud = normalise_cloud(points)
    assert cloud.shape == (500, MAX_COMPONENTS)
    # Projected on its principal axes the cloud's coordinates are uncorrelated, by decreasing variance.
    covariance = np.cov(cloud.T)
    np.testing.assert_allclose(covariance - np.diag(np.diag(covariance)), 0.0, atol=1e-12)
    assert np.all(np.diff(np.diag(covariance)) < 0)
    assert normalise_cloud(points, 2).shape == (500, 2)


def test_density_filter_drops_isolated_points():
    rng = np.random.default_rng(1)
    cluster = rng.standard_normal((95, 2)) * 0.1
    outliers = np.array([[5.0, 5.0], [-5.0, 4.0], [6.0, -3.0], [-4.0, -6.0], [0.0, 8.0]])
    kept = densest(np.vstack([cluster, outliers]), neighbours=3, keep=0.95)
    assert kept.shape == (95, 2) and np.all(np.abs(kept) < 1.0)
    # Kept points keep their order; keeping everything (or a single point) filters nothing.
    np.testing.assert_array_equal(kept, cluster)
    assert densest(cluster, neighbours=3, keep=1.0) is cluster
    np.testing.assert_array_equal(densest(cluster[:1], neighbours=3, keep=0.5), cluster[:1])

