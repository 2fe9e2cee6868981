"""Fixed-point finder (Sussillo & Barak 2013) on maps with known fixed points (claim `flipflop`)."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

from rnndyn.analysis.fixed_points import (
    classify,
    constant_input_map,
    find_fixed_points,
    jacobians,
    newton_polish,
    pairwise_midpoints,
    saddle_connections,
    sample_initial_states,
    unstable_direction,
)

H_STAR = 0.9575040240772688  # positive root of h = tanh(2 h)
Q_TOL = 1e-14
# q < Q_TOL puts a point within sqrt(2 Q_TOL) / min |1 - f'(h*)| of the true fixed point; the
# smallest |1 - f'| here is 1 - 2 (1 - H_STAR^2) = 0.834, so the distance is below 2e-7.
POSITION_TOL = math.sqrt(2 * Q_TOL) / 0.8


def uniform_states(n, d, seed, half_width=1.5):
    generator = torch.Generator().manual_seed(seed)
    return (2 * torch.rand(n, d, generator=generator, dtype=torch.float64) - 1) * half_width


def test_three_uncoupled_bistable_units():
    fixed = find_fixed_points(
        lambda h: torch.tanh(2.0 * h), uniform_states(400, 3, 0), q_tol=Q_TOL, dedup_tol=1e-3
    )
    assert len(fixed.points) == 27
    assert fixed.is_stable.sum() == 8
    assert np.all(fixed.q < Q_TOL)
    # Every point is one of the 3^3 analytic combinations of {-h*, 0, h*}, each found once.
    analytic = np.array(list(itertools.product([-H_STAR, 0.0, H_STAR], repeat=3)))
    distance = np.linalg.norm(fixed.points[:, None, :] - analytic[None, :, :], axis=-1)
    nearest = distance.argmin(axis=1)
    assert sorted(nearest.tolist()) == list(range(27))
    assert np.all(distance.min(axis=1) < POSITION_TOL)
    # Jacobian diag(2 (1 - h^2)): eigenvalue 2 on each zero coordinate (unstable), 2 (1 - h*^2)
    # = 0.166 on each +-h* coordinate; the count of zeros is the number of unstable directions.
    n_zero = np.sum(analytic[nearest] == 0.0, axis=1)
    np.testing.assert_array_equal(fixed.n_unstable, n_zero)
    np.testing.assert_array_equal(fixed.is_stable, n_zero == 0)
    expected_eigenvalues = np.sort(2 * (1 - analytic[nearest] ** 2), axis=1)
    # Eigenvalue error = 4 |h| * position error < 1e-6.
    found_eigenvalues = np.sort(fixed.eigenvalues.real, axis=1)
    np.testing.assert_allclose(found_eigenvalues, expected_eigenvalues, atol=1e-6)
    np.testing.assert_array_equal(fixed.eigenvalues.imag, 0.0)


def test_constant_input_closure():
    b = 0.1  # below the fold |b_c| = 0.533 at w = 2: each unit keeps three fixed points

    def step(h, x):
        return torch.tanh(2.0 * h + x)

    F = constant_input_map(step, torch.full((3,), b))
    fixed = find_fixed_points(F, uniform_states(600, 3, 1), q_tol=Q_TOL, dedup_tol=1e-3)
    assert len(fixed.points) == 27
    assert fixed.is_stable.sum() == 8
    residual = np.abs(np.tanh(2.0 * fixed.points + b) - fixed.points)
    assert residual.max() < math.sqrt(2 * Q_TOL)


@pytest.mark.parametrize("rho, n_unstable", [(0.8, 0), (1.5, 2)])
def test_affine_map_has_one_fixed_point(rho, n_unstable):
    # W = rho * rotation(0.7) (+) 0.5: eigenvalues rho e^{+-0.7 i} and 0.5; fixed point
    # (I - W)^-1 b.
    c, s = math.cos(0.7), math.sin(0.7)
    W = torch.tensor(
        [[rho * c, -rho * s, 0.0], [rho * s, rho * c, 0.0], [0.0, 0.0, 0.5]], dtype=torch.float64
    )
    b = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    # Adam moves each coordinate by at most about lr per step, and the fixed point lies up to ~8
    # from the initial states: lr = 0.1 (total path ~ 29 over the decaying schedule) reaches it.
    initial = uniform_states(50, 3, 2, 5.0)
    fixed = find_fixed_points(lambda h: h @ W.T + b, initial, lr=0.1, q_tol=Q_TOL, dedup_tol=1e-3)
    assert len(fixed.points) == 1
    expected = np.linalg.solve(np.eye(3) - W.numpy(), b.numpy())
    # |1 - eig| >= 0.5 here, so the position error is below sqrt(2 Q_TOL) / 0.5.
    np.testing.assert_allclose(fixed.points[0], expected, atol=math.sqrt(2 * Q_TOL) / 0.5)
    moduli = np.sort(np.abs(fixed.eigenvalues[0]))
    np.testing.assert_allclose(moduli, np.sort([0.5, rho, rho]), rtol=1e-12)
    assert fixed.n_unstable[0] == n_unstable
    assert fixed.is_stable[0] == (n_unstable == 0)


def test_nothing_found_returns_empty_result():
    # h -> h + 1 has no fixed point: q = 1/2 d everywhere.
    fixed = find_fixed_points(lambda h: h + 1.0, uniform_states(5, 2, 3), n_iter=10)
    assert fixed.points.shape == (0, 2) and fixed.eigenvalues.shape == (0, 2)


def test_jacobians_of_a_batch():
    W = torch.tensor([[0.5, 2.0], [-1.0, 0.3]], dtype=torch.float64)
    h = uniform_states(4, 2, 4)
    J = jacobians(lambda x: torch.tanh(x @ W.T), h)
    expected = (1 - torch.tanh(h @ W.T) ** 2)[:, :, None] * W
    torch.testing.assert_close(J, expected, rtol=1e-14, atol=1e-14)


def test_sample_initial_states_is_seeded_and_draws_visited_states():
    trajectories = torch.arange(24, dtype=torch.float32).reshape(2, 4, 3)  # 8 states in R^3
    def sample(n_states, noise_std, seed):
        generator = torch.Generator().manual_seed(seed)
        return sample_initial_states(
            trajectories, n_states, noise_std=noise_std, generator=generator
        )

    a, b = sample(10, 0.0, 5), sample(10, 0.0, 5)
    assert a.shape == (10, 3) and a.dtype == torch.float64
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    visited = trajectories.reshape(-1, 3).double()
    assert all(any(torch.equal(row, v) for v in visited) for row in a)
    noisy = sample(2000, 0.1, 6)
    # Visited coordinates are integers; noise beyond 0.5 (5 std, p = 6e-7) would mis-round.
    offsets = noisy - torch.round(noisy)
    # With noise std 0.1 the sample std of 6000 offsets is within 5% of 0.1 (standard error 0.9%).
    assert offsets.std().item() == pytest.approx(0.1, rel=0.05)


def test_torch_module_map_leaves_parameter_gradients_alone():
    torch.manual_seed(0)  # module initialisation only; the search itself takes explicit inputs
    cell = torch.nn.RNNCell(2, 8).double()
    with torch.no_grad():
        cell.weight_hh.mul_(0.5)
    # ||W_hh||_2 < 1 and tanh' <= 1: a contraction, hence exactly one fixed point, stable.
    assert torch.linalg.matrix_norm(cell.weight_hh, 2).item() < 1
    F = constant_input_map(lambda h, x: cell(x, h), torch.tensor([0.3, -0.2]))
    fixed = find_fixed_points(F, uniform_states(32, 8, 5))
    assert len(fixed.points) == 1 and fixed.is_stable[0]
    h_star = torch.as_tensor(fixed.points)
    # q < 1e-12 means ||F(h*) - h*|| < sqrt(2e-12).
    assert torch.linalg.vector_norm(F(h_star) - h_star).item() < math.sqrt(2e-12)
    assert all(parameter.grad is None for parameter in cell.parameters())


def test_newton_polish_converges_quadratically_on_a_known_map():
    h_star = brentq(lambda h: np.tanh(2.0 * h) - h, 0.5, 1.0, xtol=1e-15)
    start = torch.tensor([[0.9, -0.8], [0.05, 1.1]], dtype=torch.float64)
    polished = newton_polish(lambda h: torch.tanh(2.0 * h), start, 8)
    expected = np.array([[h_star, -h_star], [0.0, h_star]])
    # Eight Newton steps from within 0.15 of a simple root: converged to float64 round-off.
    np.testing.assert_allclose(polished.numpy(), expected, atol=1e-14)


def test_classify_counts_unstable_directions_of_a_discrete_map():
    eigenvalues = np.array([
        [0.5, -0.9, 0.1],  # stable
        [1.2, 0.3, -0.2],  # one unstable direction
        [-1.5, 0.3, 0.0],  # one, a flip saddle (negative multiplier)
        [0.8 + 0.8j, 0.8 - 0.8j, 0.1],  # a complex pair of modulus 1.13: two
        [1.0, 0.5, 0.2],  # on the unit circle: neither stable nor unstable there
    ])
    n_unstable, is_stable = classify(eigenvalues)
    np.testing.assert_array_equal(n_unstable, [0, 1, 1, 2, 0])
    np.testing.assert_array_equal(is_stable, [True, False, False, False, False])


def test_unstable_direction_of_a_non_normal_jacobian():
    # Eigenvalues 2 and 0.5; (J - 2 I) v = 0 gives v ~ (1.5, 1), not an axis nor orthogonal to the other.
    eigenvalue, direction = unstable_direction(np.array([[2.0, 0.0], [1.0, 0.5]]))
    assert eigenvalue == pytest.approx(2.0, abs=1e-14)
    np.testing.assert_allclose(direction, np.array([1.5, 1.0]) / math.sqrt(3.25), atol=1e-14)
    with pytest.raises(ValueError, match="got 2"):
        unstable_direction(np.diag([2.0, -3.0]))
    with pytest.raises(ValueError, match="got 0"):
        unstable_direction(np.diag([0.2, 0.3]))


def _two_wells(h):
    """h1 <- tanh(2 h1), h2 <- tanh(h1 + h2 / 2): two stable points (+-H_STAR, y+-) and a saddle at 0
    between them whose unstable eigenvector (1.5, 1) / sqrt(3.25) is oblique."""
    return torch.stack([torch.tanh(2.0 * h[:, 0]), torch.tanh(h[:, 0] + 0.5 * h[:, 1])], dim=1)


def test_saddle_between_two_stable_points_connects_them():
    fixed = find_fixed_points(_two_wells, uniform_states(200, 2, 7), q_tol=Q_TOL)
    y_star = brentq(lambda y: np.tanh(H_STAR + 0.5 * y) - y, 0.0, 1.0, xtol=1e-15)
    expected = np.array([[0.0, 0.0], [H_STAR, y_star], [-H_STAR, -y_star]])
    distance = np.linalg.norm(fixed.points[:, None] - expected[None], axis=-1)
    assert len(fixed.points) == 3 and sorted(distance.argmin(axis=1).tolist()) == [0, 1, 2]
    np.testing.assert_array_equal(fixed.n_unstable, distance.argmin(axis=1) == 0)
    # Escaping from 1e-3 at multiplier 2 takes ~10 steps; the wells contract at <= 0.5 a step.
    connections = saddle_connections(_two_wells, fixed, step=1e-3, n_steps=100, landing_fraction=0.1)
    saddle = int(np.flatnonzero(fixed.n_unstable == 1)[0])
    np.testing.assert_array_equal(connections["saddle"], [saddle])
    assert connections["eigenvalue"][0] == pytest.approx(2.0, abs=1e-6)
    np.testing.assert_allclose(connections["direction"][0], np.array([1.5, 1.0]) / math.sqrt(3.25), atol=1e-6)
    # +v (positive entries) runs to (+H_STAR, y+), -v to (-H_STAR, y-); both land (to round-off).
    plus, minus = connections["lands_on"][0]
    np.testing.assert_allclose(fixed.points[plus], expected[1], atol=1e-6)
    np.testing.assert_allclose(fixed.points[minus], expected[2], atol=1e-6)
    assert np.all(connections["landing_distance"] < 1e-6)


def test_a_single_stable_point_has_no_saddles():
    def contraction(h):
        return torch.tanh(0.5 * h + 0.1)

    fixed = find_fixed_points(contraction, uniform_states(50, 2, 8), q_tol=Q_TOL)
    assert len(fixed.points) == 1 and fixed.is_stable[0]
    connections = saddle_connections(contraction, fixed, step=1e-3, n_steps=10, landing_fraction=0.1)
    assert connections["saddle"].size == 0 and connections["lands_on"].shape == (0, 2)


def test_a_branch_that_runs_away_lands_nowhere():
    # x <- x (1.5 - 0.5 x): an unstable point at 0 (multiplier 1.5) and a stable one at 1 (0.5); left of
    # 0 the map diverges to -inf. y <- y / 2 contracts. One branch lands on (1, 0), the other on nothing.
    def one_sided(h):
        x, y = h[:, 0], h[:, 1]
        return torch.stack([x * (1.5 - 0.5 * x), 0.5 * y], dim=1)

    fixed = find_fixed_points(one_sided, torch.tensor([[0.05, 0.1], [0.9, -0.1]], dtype=torch.float64), q_tol=Q_TOL)
    np.testing.assert_allclose(fixed.points[np.argsort(fixed.points[:, 0])], [[0.0, 0.0], [1.0, 0.0]], atol=1e-6)
    connections = saddle_connections(one_sided, fixed, step=1e-3, n_steps=60, landing_fraction=0.1)
    stable = int(np.flatnonzero(fixed.is_stable)[0])
    np.testing.assert_array_equal(connections["lands_on"], [[stable, -1]])


def test_pairwise_midpoints():
    points = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0]])
    np.testing.assert_array_equal(pairwise_midpoints(points), [[1.0, 0.0], [0.0, 2.0], [1.0, 2.0]])
    assert pairwise_midpoints(points[:1]).shape == (0, 2)
