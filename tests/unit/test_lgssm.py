"""Linear Gaussian state-space models: canonical benchmarks and stationary simulation."""

import numpy as np
import pytest

from rnndyn.systems.lgssm import (
    kalmannet_canonical_system,
    random_stable_system,
    simulate_lgssm,
    stationary_state_covariance,
)


def test_canonical_2x2_structure():
    system = kalmannet_canonical_system(2, rho=0.9, noise_ratio_db=-10.0, r2=2.0)
    np.testing.assert_array_equal(system.A, 0.9 * np.array([[1.0, 1.0], [0.0, 1.0]]))
    np.testing.assert_array_equal(system.C, np.eye(2))
    np.testing.assert_allclose(system.Q, 0.2 * np.eye(2), rtol=1e-15)  # q^2 = r^2 10^(-1)
    np.testing.assert_array_equal(system.R, 2.0 * np.eye(2))


@pytest.mark.parametrize("n", [5, 10])
def test_canonical_reverse_canonical_observation(n):
    system = kalmannet_canonical_system(n, rho=0.8)
    expected_C = np.fliplr(np.eye(n))
    expected_C[0] = 1.0
    np.testing.assert_array_equal(system.C, expected_C)
    assert np.linalg.matrix_rank(system.C) == n
    F = np.eye(n)
    F[0] = 1.0
    np.testing.assert_array_equal(system.A, 0.8 * F)


@pytest.mark.parametrize("n", [2, 5, 10])
def test_canonical_is_stable_with_polynomial_transient(n):
    rho = 0.9
    A = kalmannet_canonical_system(n, rho=rho).A
    # A is triangular with rho on the diagonal: every eigenvalue is rho exactly.
    np.testing.assert_array_equal(np.sort(np.diag(A)), np.full(n, rho))
    np.testing.assert_array_equal(np.tril(A, -1), 0.0)
    # A^k = rho^k (I + k N), N = F - I nilpotent of order 2; round-off of seven products only.
    N = A / rho - np.eye(n)
    k = 7
    np.testing.assert_allclose(
        np.linalg.matrix_power(A, k), rho**k * (np.eye(n) + k * N), rtol=1e-14
    )


def test_random_stable_system_has_requested_spectral_radius():
    system = random_stable_system(np.random.default_rng(0), 6, 3, 0.95, q=0.5, r=2.0)
    assert system.A.shape == (6, 6) and system.C.shape == (3, 6)
    # Eigenvalues of a well-conditioned 6 x 6 matrix: accurate to ~1e-15.
    assert np.max(np.abs(np.linalg.eigvals(system.A))) == pytest.approx(0.95, abs=1e-12)
    np.testing.assert_array_equal(system.Q, 0.5 * np.eye(6))
    np.testing.assert_array_equal(system.R, 2.0 * np.eye(3))


def test_stationary_covariance_solves_lyapunov():
    system = kalmannet_canonical_system(5, rho=0.9)
    Sigma = stationary_state_covariance(system.A, system.Q)
    np.testing.assert_allclose(system.A @ Sigma @ system.A.T + system.Q, Sigma, rtol=1e-12)


def test_noiseless_simulation_follows_the_dynamics_exactly():
    A = np.array([[0.5, 1.0], [0.0, -0.7]])
    C = np.array([[1.0, 2.0]])
    states, observations = simulate_lgssm(
        A, C, np.zeros((2, 2)), np.zeros((1, 1)), 6, np.random.default_rng(1),
        n_sequences=3, x0_cov=np.eye(2),
    )
    assert states.shape == (3, 6, 2) and observations.shape == (3, 6, 1)
    np.testing.assert_allclose(states[:, 1:], states[:, :-1] @ A.T, rtol=1e-15)
    np.testing.assert_allclose(observations, states @ C.T, rtol=1e-15)


def test_simulation_starts_stationary():
    system = kalmannet_canonical_system(2, rho=0.9)
    A, C, Q, R = system.A, system.C, system.Q, system.R
    S = 40_000
    states, observations = simulate_lgssm(A, C, Q, R, 4, np.random.default_rng(2), n_sequences=S)
    Sigma = stationary_state_covariance(A, Q)
    # Std of a sample covariance entry of Gaussian vectors: sqrt((S_ii S_jj + S_ij^2) / S).
    # Allow 5 standard errors (each comparison fails by chance with probability < 1e-6).
    def check(sample, expected, cov_a, cov_b):
        se = np.sqrt((np.outer(np.diag(cov_a), np.diag(cov_b)) + expected**2) / S)
        assert np.all(np.abs(sample - expected) <= 5 * se)

    for t in (0, 3):  # same distribution at the first and the last step: no transient
        x = states[:, t]
        check(x.T @ x / S, Sigma, Sigma, Sigma)
    y = observations[:, 0]
    obs_cov = C @ Sigma @ C.T + R
    check(y.T @ y / S, obs_cov, obs_cov, obs_cov)
    # Lag-one cross-covariance E[x_{t+1} x_t^T] = A Sigma.
    check(states[:, 1].T @ states[:, 0] / S, A @ Sigma, Sigma, Sigma)
