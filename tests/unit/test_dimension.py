"""Correlation dimension over the plateau of the local slopes (claim `takens`).

Tolerances. Each test compares a known dimension with the interval the estimator reports (the 95 %
block bootstrap of :func:`correlation_dimension`) plus a stated allowance, never with a margin
read off the estimates:
- where C(r) is known exactly (a limit cycle, a flat 2-torus, a Gaussian blob), the slope of the
  exact C(r) over the reported plateau must lie in the interval, and the set's dimension must lie
  in the interval widened by the exact curve's own departure from that dimension at the top of the
  plateau (its finite-r bias: curvature of the cycle and the torus, the falling density of the
  Gaussian);
- where it is not (Henon, Lorenz), the published value widened by its published uncertainty must
  meet the interval.
The intervals are conservative: over 40 seeds each, the slope of the exact C(r) lay inside the
interval every time for the cycle, the torus and the blob (the estimate's deviation from it had a
standard deviation of about 0.3 half-widths), and over 20 seeds each Henon's and Lorenz's published
values (with their uncertainty) met it every time; a test that fails here is not bad luck.
"""

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.spatial.distance import pdist

from rnndyn.analysis.dimension import correlation_dimension, nolds_correlation_dimension
from rnndyn.analysis.embedding import delay_cloud, state_cloud
from rnndyn.systems.lorenz import integrate_lorenz, lorenz_initial_states

GP_1983_HENON = (1.21, 0.01)
GP_1983_LORENZ = (2.05, 0.01)
"""D2 and its uncertainty, Grassberger & Procaccia, Physica D 9, 189 (1983)."""


def _henon(n: int) -> np.ndarray:
    """Henon map (a = 1.4, b = 0.3), n states after 100 transient iterations."""
    state = np.empty((n + 100, 2))
    state[0] = (0.1, 0.1)
    for t in range(n + 99):
        state[t + 1] = (1.0 - 1.4 * state[t, 0] ** 2 + state[t, 1], 0.3 * state[t, 0])
    return state[100:]


def _lorenz_runs(seed: int) -> np.ndarray:
    """The Lorenz stage's default attractor runs: 16 trajectories x 5,000 RK4 steps of 0.01, (16, 5000, 3)."""
    rng = np.random.default_rng(seed)
    return integrate_lorenz(lorenz_initial_states(rng, 16), dt=0.01, n_steps=4999, n_transient=1000)


# Exact correlation integrals C(r) = P(|X - Y| <= r) for X, Y independent draws of each set.
def _cycle_sum(r):
    """Unit circle, uniform phase (the stable limit cycle of the Hopf normal form r' = r (1 - r^2),
    theta' = 1, sampled at random times): chord 2 sin(theta / 2), theta uniform on [0, pi]."""
    return 2.0 / np.pi * np.arcsin(np.minimum(r, 2.0) / 2.0)


def _torus_sum(r):
    """Flat torus (cos u, sin u, cos v, sin v), u and v uniform: squared distance is the sum of the
    squared chords of two independent circles."""
    def one(radius):
        top = 2.0 * np.arcsin(min(radius / 2.0, 1.0))
        chord = lambda theta: _cycle_sum(np.sqrt(max(radius**2 - 4.0 * np.sin(theta / 2.0) ** 2, 0.0)))  # noqa: E731
        return integrate.quad(chord, 0.0, top, limit=200)[0] / np.pi
    return np.array([one(radius) for radius in np.atleast_1d(r)])


def _gaussian_sum(r):
    """Standard normal in R^3: X - Y ~ N(0, 2 I), so |X - Y| / sqrt 2 has the chi distribution, 3 dof."""
    return stats.chi.cdf(np.asarray(r) / np.sqrt(2.0), 3)


def _cycle(rng, n):
    phase = rng.uniform(0.0, 2.0 * np.pi, n)
    return np.column_stack([np.cos(phase), np.sin(phase)])


def _torus(rng, n):
    u, v = rng.uniform(0.0, 2.0 * np.pi, (2, n))
    return np.column_stack([np.cos(u), np.sin(u), np.cos(v), np.sin(v)])


def _blob(rng, n):
    return rng.standard_normal((n, 3))


@pytest.mark.parametrize(
    ("make", "exact_sum", "dimension", "n_points"),
    [(_cycle, _cycle_sum, 1, 2_000), (_torus, _torus_sum, 2, 3_000), (_blob, _gaussian_sum, 3, 5_000)],
    ids=["limit_cycle", "flat_torus", "gaussian_blob"],
)
def test_sets_with_exact_correlation_integral(make, exact_sum, dimension, n_points):
    rng = np.random.default_rng(0)
    result = correlation_dimension(make(rng, n_points), rng=rng)
    radii = result.radii[result.in_fit]
    exact_slope = np.polyfit(np.log(radii), np.log(exact_sum(radii)), 1)[0]
    assert result.low <= exact_slope <= result.high
    # The exact curve's local slope at the top of the plateau: how far the set itself departs from
    # its dimension at the scales fitted (central difference over +-1 % in r).
    top = result.r_max * np.array([0.99, 1.01])
    bias = abs(np.diff(np.log(exact_sum(top)))[0] / np.diff(np.log(top))[0] - dimension)
    assert result.low - bias <= dimension <= result.high + bias
    assert result.r_min < result.r_max and result.support > 0.5


def test_henon_attractor():
    result = correlation_dimension(_henon(5_000), rng=np.random.default_rng(4))
    value, uncertainty = GP_1983_HENON
    assert result.low - uncertainty <= value <= result.high + uncertainty
    # The interval tells a fractal from a curve (1) and from an area (2).
    assert 1.0 < result.low < result.high < 2.0


@pytest.fixture(scope="module")
def lorenz_runs():
    return _lorenz_runs(seed=5)


@pytest.mark.parametrize("cloud", ["state", "delay"])
def test_lorenz_state_and_delay_clouds(lorenz_runs, cloud):
    # The stage's clouds: every 10th sample (0.1 time units), Theiler window of 10 samples; the delay
    # cloud of x with the lag (16 steps) and dimension (3) the stage finds for it.
    points = state_cloud(lorenz_runs, 10) if cloud == "state" else delay_cloud(lorenz_runs[..., 0], 3, 16, 10)
    result = correlation_dimension(points, rng=np.random.default_rng(6), theiler_window=10)
    value, uncertainty = GP_1983_LORENZ
    assert result.low - uncertainty <= value <= result.high + uncertainty
    assert 1.0 < result.low < result.high < 3.0


def test_repeated_states_have_no_correlation_sum_to_judge():
    # 50 states visited 40 times each (a network stuck on a periodic orbit sampled in step with it):
    # 39,000 coincident pairs, so C(r) tends to a constant, not to 0, as r -> 0.
    points = np.repeat(np.random.default_rng(7).standard_normal((50, 3)), 40, axis=0)
    with pytest.raises(ValueError, match="coincide"):
        correlation_dimension(points, rng=np.random.default_rng(8))


def test_too_few_points_raise():
    with pytest.raises(ValueError, match="min_pairs"):
        correlation_dimension(np.random.default_rng(9).uniform(size=(40, 2)), rng=np.random.default_rng(10))


def test_noise_with_too_few_points_for_its_dimension_has_no_plateau():
    # 2,000 points: C runs from 1,000 / 1,999,000 = 5e-4 to 0.1, a factor 200, which a D-dimensional
    # set spans over a factor 200^(1 / D) in r; a plateau of two octaves plus half an octave of
    # local-slope window at each end needs a factor 8, so D > ln 200 / ln 8 = 2.5 cannot be measured
    # (Eckmann & Ruelle 1992). Gaussian noise in 10 dimensions must give no number.
    noise = np.random.default_rng(11).standard_normal((2_000, 10))
    result = correlation_dimension(noise, rng=np.random.default_rng(12))
    assert np.isnan(result.dimension) and np.isnan(result.low) and np.isnan(result.high)
    assert not result.in_fit.any()
    assert result.correlation_sum.shape == result.radii.shape == result.local_slope.shape


def test_correlation_sum_matches_brute_force_with_theiler_window():
    rng = np.random.default_rng(1)
    walk = np.cumsum(rng.standard_normal((400, 3)), axis=0)  # time-ordered, strongly correlated
    window = 5
    result = correlation_dimension(walk, rng=rng, theiler_window=window, min_pairs=100)
    i, j = np.triu_indices(400, k=1)
    distance = pdist(walk)[(j - i) > window]
    brute = (distance[None, :] <= result.radii[:, None]).mean(axis=1)
    # Both are integer counts over the same number of admissible pairs; the smallest radius is a pair
    # distance, which both computations round alike (sum of squared coordinate differences, then sqrt).
    np.testing.assert_allclose(result.correlation_sum, brute, rtol=1e-12, atol=0)
    assert np.count_nonzero(distance <= result.radii[0]) == 100


def test_local_slopes_and_plateau_follow_the_stated_rule():
    # Uniform on a segment (C(r) = 2 r - r^2).
    rng = np.random.default_rng(2)
    result = correlation_dimension(np.column_stack([rng.uniform(size=3_000), np.zeros(3_000)]), rng=rng)
    # Defined exactly where the grid holds the whole window: the m radii on either side within half
    # an octave.
    step = np.log(result.radii[1] / result.radii[0])
    half = int(np.floor(np.log(2) / 2 / step + 1e-9))
    index = np.arange(result.radii.size)
    np.testing.assert_array_equal(np.isfinite(result.local_slope),
                                  (index >= half) & (index <= result.radii.size - 1 - half))
    # In the plateau every local slope is within the rule's 10 % of the mid-range.
    slopes = result.local_slope[result.in_fit]
    assert slopes.max() - slopes.min() <= 0.1 * (slopes.max() + slopes.min()) / 2
    assert np.log(result.r_max / result.r_min) >= np.log(4.0) - 1e-9


def test_isometric_embedding_in_high_dimension_gives_the_same_estimate():
    rng = np.random.default_rng(2)
    square = rng.uniform(size=(2_000, 2))
    frame, _ = np.linalg.qr(rng.standard_normal((64, 2)))  # orthonormal columns: an isometry into R^64
    planar = correlation_dimension(square, rng=np.random.default_rng(3))
    embedded = correlation_dimension(square @ frame.T + 5.0, rng=np.random.default_rng(3))
    # PCA recovers the plane, so distances agree to round-off and the estimate to ~1e-12.
    assert embedded.dimension == pytest.approx(planar.dimension, abs=1e-9)
    assert (embedded.low, embedded.high) == pytest.approx((planar.low, planar.high), abs=1e-9)


def test_large_clouds_are_thinned_with_their_theiler_window():
    points = state_cloud(_lorenz_runs(seed=3)[:4], 2)  # 4 x 2,500 rows
    thinned = correlation_dimension(points, rng=np.random.default_rng(4), theiler_window=50, max_points=2_000)
    # 10,000 rows over 2,000: every 5th row, and a window of 50 rows becomes 10.
    direct = correlation_dimension(points[::5], rng=np.random.default_rng(4), theiler_window=10)
    np.testing.assert_array_equal(thinned.correlation_sum, direct.correlation_sum)
    assert thinned.dimension == direct.dimension


@pytest.mark.filterwarnings("ignore:pkg_resources is deprecated:UserWarning")  # nolds 0.6.2's import
def test_nolds_cross_check_is_deterministic_and_close_to_the_reference():
    x = _henon(2_000)[:, 0]
    first = nolds_correlation_dimension(x, emb_dim=2)
    # fit='poly' is deterministic (nolds' RANSAC default would not be).
    assert nolds_correlation_dimension(x, emb_dim=2) == first
    # nolds fits radii 0.1-0.5 standard deviations of x, large scales for Henon: 1.19 here against
    # the reference 1.21 +- 0.01 (Grassberger & Procaccia 1983).
    assert first == pytest.approx(1.21, abs=0.1)
