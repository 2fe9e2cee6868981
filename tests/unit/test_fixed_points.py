"""Fixed-point finder (Sussillo & Barak 2013) on maps with known fixed points (claim `flipflop`)."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

from rnndyn.analysis.fixed_points import (
    constant_input_map,
    find_fixed_points,
    jacobians,
    newton_polish,
    sample_initial_states,
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
