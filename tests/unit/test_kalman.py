"""Steady-state Kalman predictor as a linear RNN (claim `kalman`)."""

import math

import numpy as np
import pytest

from rnndyn.analysis.kalman import (
    balanced_truncation,
    kalman_predict,
    kalman_predictor_matrices,
    markov_parameters,
    match_eigenvalues,
    mse_gap_db,
    prediction_mse_floor,
    steady_state_kalman,
    time_varying_kalman_predict,
)
from rnndyn.systems.lgssm import (
    kalmannet_canonical_system,
    random_stable_system,
    simulate_lgssm,
    stationary_state_covariance,
)


def scalar_riccati_solution(a, q, r):
    # P = a^2 P - a^2 P^2 / (P + r) + q  <=>  P^2 + (r (1 - a^2) - q) P - q r = 0, positive root.
    b = r * (1 - a**2) - q
    return (-b + math.sqrt(b**2 + 4 * q * r)) / 2


@pytest.mark.parametrize("a, q, r", [(0.9, 0.5, 2.0), (-0.5, 1.0, 0.1), (1.2, 0.3, 1.0)])
def test_scalar_riccati_closed_form(a, q, r):
    P, K = steady_state_kalman([[a]], [[1.0]], [[q]], [[r]])
    expected = scalar_riccati_solution(a, q, r)
    # scipy's Schur-based solver is backward stable: ~1e-15 relative for a scalar.
    assert P[0, 0] == pytest.approx(expected, rel=1e-12)
    p = P[0, 0]
    assert p == pytest.approx(a**2 * p - a**2 * p**2 / (p + r) + q, rel=1e-12)
    assert K[0, 0] == pytest.approx(p / (p + r), rel=1e-12)


def test_matrix_riccati_residual_and_fixed_point_of_the_recursion():
    system = random_stable_system(np.random.default_rng(0), 4, 2, 0.9, q=0.5, r=1.0)
    A, C, Q, R = system.A, system.C, system.Q, system.R
    P, K = steady_state_kalman(A, C, Q, R)
    riccati = A @ P @ A.T - A @ P @ C.T @ np.linalg.solve(C @ P @ C.T + R, C @ P @ A.T) + Q
    # Backward-stable solver, O(1) entries: residual at round-off level.
    np.testing.assert_allclose(riccati, P, atol=1e-12)
    np.testing.assert_allclose(P, P.T, atol=0)
    assert np.all(np.linalg.eigvalsh(P) > 0)
    # The stabilising solution: the predictor's recurrent matrix is stable.
    W, G = kalman_predictor_matrices(A, C, K)
    assert np.max(np.abs(np.linalg.eigvals(W))) < 1
    np.testing.assert_allclose(G, A @ P @ C.T @ np.linalg.inv(C @ P @ C.T + R), rtol=1e-12)
    # Independent route: the Riccati recursion of the time-varying filter converges to P,
    # contracting like rho(A - A K C)^(2t); 400 steps leave < 1e-13 of the initial gap.
    _, P_t = time_varying_kalman_predict(
        np.zeros((400, 2)), A, C, Q, R, stationary_state_covariance(A, Q)
    )
    assert np.max(np.abs(np.linalg.eigvals(W))) ** 800 < 1e-13
    np.testing.assert_allclose(P_t[-1], P, atol=1e-11)


def test_steady_state_predictor_equals_time_varying_filter_started_at_the_dare_solution():
    system = kalmannet_canonical_system(5, rho=0.9)
    A, C, Q, R = system.A, system.C, system.Q, system.R
    P, K = steady_state_kalman(A, C, Q, R)
    _, y = simulate_lgssm(A, C, Q, R, 50, np.random.default_rng(1), n_sequences=3)
    y_tv, P_t = time_varying_kalman_predict(y, A, C, Q, R, P)
    # P is a fixed point of the Riccati recursion, so the gains coincide: equal to round-off.
    np.testing.assert_allclose(P_t, np.broadcast_to(P, P_t.shape), atol=1e-12)
    np.testing.assert_allclose(kalman_predict(y, A, C, K), y_tv, atol=1e-10)


@pytest.mark.parametrize("n", [2, 5, 10])
def test_predictor_mse_reaches_the_floor(n):
    system = kalmannet_canonical_system(n, rho=0.9)
    A, C, Q, R = system.A, system.C, system.Q, system.R
    P, K = steady_state_kalman(A, C, Q, R)
    S, T, burn_in = 20, 2000, 200
    _, y = simulate_lgssm(A, C, Q, R, T, np.random.default_rng(n), n_sequences=S)
    y_hat = kalman_predict(y, A, C, K)
    # The initial estimate x_hat = 0 is forgotten like rho(A - A K C)^t: negligible after burn_in.
    W, _ = kalman_predictor_matrices(A, C, K)
    assert np.max(np.abs(np.linalg.eigvals(W))) ** burn_in < 1e-6
    mse = np.mean((y[:, burn_in:] - y_hat[:, burn_in:]) ** 2)
    floor = prediction_mse_floor(C, P, R)
    # Innovations e_t ~ N(0, S_e), S_e = C P C^T + R, are white in steady state, so the MSE over
    # N = S (T - burn_in) steps has standard error sqrt(2 tr(S_e^2) / N) / p. Allow 5 of them.
    S_e = C @ P @ C.T + R
    se = math.sqrt(2 * np.trace(S_e @ S_e) / (S * (T - burn_in))) / C.shape[0]
    assert abs(mse - floor) <= 5 * se
    # A naive predictor (y_hat_{t+1} = y_t) is measurably worse than the floor.
    naive = np.mean((y[:, burn_in + 1 :] - y[:, burn_in:-1]) ** 2)
    assert mse_gap_db(naive, floor) > 0.5


def test_mse_floor_and_gap():
    P = np.array([[2.0, 0.5], [0.5, 1.0]])
    C = np.eye(2)
    R = np.diag([0.5, 1.5])
    assert prediction_mse_floor(C, P, R) == (2.0 + 0.5 + 1.0 + 1.5) / 2
    assert prediction_mse_floor([[1.0]], [[3.0]], [[0.25]]) == 3.25
    assert mse_gap_db(2.0, 1.0) == pytest.approx(10 * math.log10(2), rel=1e-15)
    assert mse_gap_db(1.0, 1.0) == 0.0


def test_match_eigenvalues_recovers_a_permutation():
    rng = np.random.default_rng(2)
    a = np.array([0.9, 0.5 + 0.3j, 0.5 - 0.3j, -0.2])
    perturbation = np.array([1e-3, -2e-3j, 2e-3j, 5e-4])
    order = rng.permutation(4)
    b = (a + perturbation)[order]
    b_matched, max_error = match_eigenvalues(a, b)
    np.testing.assert_array_equal(b_matched, a + perturbation)
    assert max_error == pytest.approx(2e-3, rel=1e-12)


def test_match_eigenvalues_ignores_extra_eigenvalues_of_a_larger_network():
    a = np.array([0.8, -0.4])
    b = np.array([0.01, -0.41, 0.02j, 0.79, -0.02j])
    b_matched, max_error = match_eigenvalues(a, b)
    np.testing.assert_array_equal(b_matched, [0.79, -0.41])
    assert max_error == pytest.approx(0.01, rel=1e-12)
    with pytest.raises(ValueError):
        match_eigenvalues(b, a)


def test_balanced_truncation_removes_modes_that_do_not_reach_the_output():
    rng = np.random.default_rng(3)
    W1 = np.array([[0.5, 0.2], [-0.3, 0.4]])
    U1, C1 = rng.standard_normal((2, 1)), rng.standard_normal((1, 2))
    # Two extra states: one unobservable (C = 0 there), one uncontrollable (U = 0 there).
    W = np.block([[W1, np.zeros((2, 2))], [np.zeros((2, 2)), np.diag([0.9, -0.8])]])
    U = np.vstack([U1, [[1.0], [0.0]]])
    C = np.hstack([C1, [[0.0, 1.0]]])
    W_reduced, hankel = balanced_truncation(W, U, C, 2)
    # The extra modes have Hankel singular value 0 exactly; the rest is a similarity transform,
    # so the eigenvalues agree to round-off of the Gramian solves.
    np.testing.assert_allclose(hankel[2:], 0.0, atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(W_reduced)),
                               np.sort_complex(np.linalg.eigvals(W1)), atol=1e-10)


def test_markov_parameters_are_matrix_powers():
    rng = np.random.default_rng(4)
    W, U, C = rng.standard_normal((3, 3)) / 3, rng.standard_normal((3, 2)), rng.standard_normal((2, 3))
    markov = markov_parameters(W, U, C, 5)
    for k in range(5):
        np.testing.assert_allclose(markov[k], C @ np.linalg.matrix_power(W, k) @ U, rtol=1e-12, atol=1e-14)
