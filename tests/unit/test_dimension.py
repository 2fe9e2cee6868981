"""Correlation dimension (Grassberger & Procaccia 1983) (claim `takens`)."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.spatial.distance import pdist

from rnndyn.analysis.dimension import correlation_dimension, nolds_correlation_dimension
from rnndyn.analysis.embedding import delay_embedding


def _lorenz(n: int, dt: float) -> np.ndarray:
    """Lorenz-63 states (n, 3) (sigma 10, rho 28, beta 8/3) at spacing dt after a 20-time-unit transient."""

    def field(_, s):
        return [10.0 * (s[1] - s[0]), s[0] * (28.0 - s[2]) - s[1], s[0] * s[1] - 8.0 / 3.0 * s[2]]

    t = 20.0 + dt * np.arange(n)
    sol = solve_ivp(field, (0.0, t[-1]), [1.0, 1.0, 1.0], t_eval=t, method="DOP853", rtol=1e-8, atol=1e-8)
    return sol.y.T


def _henon(n: int) -> np.ndarray:
    """Henon map (a = 1.4, b = 0.3), n states after 100 transient iterations."""
    state = np.empty((n + 100, 2))
    state[0] = (0.1, 0.1)
    for t in range(n + 99):
        state[t + 1] = (1.0 - 1.4 * state[t, 0] ** 2 + state[t, 1], 0.3 * state[t, 0])
    return state[100:]


def _fitted_slope_of(exact_sum, result) -> float:
    """Slope the fit would give on the exact correlation sum at the same radii."""
    r = result.radii[result.in_fit]
    return np.polyfit(np.log(r), np.log(exact_sum(r)), 1)[0]


# Exact distribution functions of the distance between two independent uniform points (r <= 1).
def _square_sum(r):  # unit square
    return np.pi * r**2 - 8.0 / 3.0 * r**3 + r**4 / 2.0


def _segment_sum(r):  # unit segment
    return 2.0 * r - r**2


def _circle_sum(r):  # unit circle: chord 2 sin(theta / 2), theta uniform on [0, pi]
    return 2.0 / np.pi * np.arcsin(r / 2.0)


# Tolerances: four standard deviations of D2 over 20 seeds at N = 3,000 (measured: 0.016 for the
# square, 0.007 for the segment, 0.008 for the circle), around the slope of the exact C(r).
@pytest.mark.parametrize(
    ("name", "exact_sum", "dimension", "tolerance"),
    [
        ("square", _square_sum, 2, 0.065),
        ("segment", _segment_sum, 1, 0.03),
        ("circle", _circle_sum, 1, 0.035),
    ],
)
def test_uniform_sets_give_their_dimension(name, exact_sum, dimension, tolerance):
    rng = np.random.default_rng(0)
    u = rng.uniform(size=(3_000, 2))
    points = {
        "square": u,
        "segment": np.column_stack([u[:, 0], np.zeros(3_000)]),
        "circle": np.column_stack([np.cos(2 * np.pi * u[:, 0]), np.sin(2 * np.pi * u[:, 0])]),
    }[name]
    result = correlation_dimension(points, rng=rng)
    expected = _fitted_slope_of(exact_sum, result)
    # The exact curve's slope differs from the integer dimension only by the boundary effect,
    # 1 - 8 r / (3 pi) relative for the square (about 0.02 here), O(r) for the segment.
    assert expected == pytest.approx(dimension, abs=0.025)
    assert result.dimension == pytest.approx(expected, abs=tolerance)


def test_correlation_sum_matches_brute_force_with_theiler_window():
    rng = np.random.default_rng(1)
    walk = np.cumsum(rng.standard_normal((400, 3)), axis=0)  # time-ordered, strongly correlated
    window = 5
    # C_max = 0.05 puts the largest radius at an interpolated quantile rather than exactly on a
    # sampled pair distance, where the two distance computations could round differently.
    result = correlation_dimension(walk, rng=rng, theiler_window=window, scaling_region=(1e-3, 5e-2))
    i, j = np.triu_indices(400, k=1)
    admissible = (j - i) > window
    distance = pdist(walk)[admissible]
    brute = (distance[None, :] <= result.radii[:, None]).mean(axis=1)
    # Both are integer counts over the same number of admissible pairs.
    np.testing.assert_allclose(result.correlation_sum, brute, rtol=1e-12, atol=0)


def test_isometric_embedding_in_high_dimension_gives_the_same_estimate():
    rng = np.random.default_rng(2)
    square = rng.uniform(size=(2_000, 2))
    frame, _ = np.linalg.qr(rng.standard_normal((64, 2)))  # orthonormal columns: an isometry into R^64
    planar = correlation_dimension(square, rng=np.random.default_rng(3))
    embedded = correlation_dimension(square @ frame.T + 5.0, rng=np.random.default_rng(3))
    # PCA recovers the plane, so distances agree to round-off and the estimate to ~1e-12.
    assert embedded.dimension == pytest.approx(planar.dimension, abs=1e-9)


def test_henon_attractor_dimension():
    result = correlation_dimension(_henon(5_000), rng=np.random.default_rng(4))
    # Grassberger & Procaccia (1983): D2 = 1.21 +- 0.01. Measured over 8 initial conditions at
    # N = 5,000: 1.18 +- 0.02 (Henon's C(r) oscillates log-periodically, which biases any window fit
    # by a few hundredths); 0.08 is that bias plus about 3 standard deviations.
    assert result.dimension == pytest.approx(1.21, abs=0.08)


def test_lorenz_state_and_delay_embedding_dimension():
    states = _lorenz(10_000, 0.05)
    rng = np.random.default_rng(5)
    state_d2 = correlation_dimension(states, rng=rng).dimension
    embedded_d2 = correlation_dimension(delay_embedding(states[:, 0], 4, 2), rng=rng).dimension
    # Reference D2 = 2.05 +- 0.01 (Grassberger & Procaccia 1983). Over 8 trajectories this
    # sample (10,000 points over 500 time units) gives 2.04-2.13 for (x, y, z) and 2.00-2.08 for the
    # delay embedding (lag 0.1 time units): the spread is the finite sampling of the attractor.
    assert state_d2 == pytest.approx(2.05, abs=0.1)
    assert embedded_d2 == pytest.approx(2.05, abs=0.1)


def test_too_few_points_for_the_scaling_region_raise():
    with pytest.raises(ValueError):
        correlation_dimension(np.random.default_rng(6).uniform(size=(20, 2)), rng=np.random.default_rng(7))


@pytest.mark.filterwarnings("ignore:pkg_resources is deprecated:UserWarning")  # nolds 0.6.2's import
def test_nolds_cross_check_is_deterministic_and_close_to_the_reference():
    x = _henon(2_000)[:, 0]
    first = nolds_correlation_dimension(x, emb_dim=2)
    # fit='poly' is deterministic (nolds' RANSAC default would not be).
    assert nolds_correlation_dimension(x, emb_dim=2) == first
    # nolds fits radii 0.1-0.5 standard deviations of x, large scales for Henon: 1.19 here against
    # the reference 1.21 +- 0.01 (Grassberger & Procaccia 1983).
    assert first == pytest.approx(1.21, abs=0.1)
