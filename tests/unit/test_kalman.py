"""Steady-state Kalman predictor as a linear RNN (claim `kalman`)."""

import math

import numpy as np
import pytest
import scipy.linalg

from rnndyn.analysis.kalman import (
    autocovariance_toeplitz,
    balanced_truncation,
    eigenvalue_condition_numbers,
    excess_mse,
    kalman_predict,
    kalman_predictor_matrices,
    markov_estimation_error,
    markov_jacobian,
    markov_parameters,
    match_eigenvalues,
    mse_gap_db,
    prediction_mse_floor,
    pseudospectral_distance,
    realisation_sensitivity,
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
    W_reduced, U_reduced, C_reduced, hankel = balanced_truncation(W, U, C, 2)
    # The extra modes have Hankel singular value 0 exactly; the rest is a similarity transform,
    # so the eigenvalues and the impulse response agree to round-off of the Gramian solves.
    np.testing.assert_allclose(hankel[2:], 0.0, atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(W_reduced)),
                               np.sort_complex(np.linalg.eigvals(W1)), atol=1e-10)
    np.testing.assert_allclose(markov_parameters(W_reduced, U_reduced, C_reduced, 20),
                               markov_parameters(W1, U1, C1, 20), atol=1e-10)
    # Balanced: both Gramians of the reduced system equal diag(Hankel singular values).
    gramian_c = scipy.linalg.solve_discrete_lyapunov(W_reduced, U_reduced @ U_reduced.T)
    gramian_o = scipy.linalg.solve_discrete_lyapunov(W_reduced.T, C_reduced.T @ C_reduced)
    np.testing.assert_allclose(gramian_c, np.diag(hankel[:2]), atol=1e-10)
    np.testing.assert_allclose(gramian_o, np.diag(hankel[:2]), atol=1e-10)


def _random_realisation(seed: int, n: int = 3, m: int = 2, p: int = 2):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n)) / (2 * math.sqrt(n)), rng.standard_normal((n, m)), rng.standard_normal((p, n))


def test_markov_jacobian_matches_finite_differences_and_annihilates_similarity():
    W, U, C = _random_realisation(5)
    n, m, p, n_lags = 3, 2, 2, 6
    J = markov_jacobian(W, U, C, n_lags)
    assert J.shape == (n_lags * p * m, n * n + n * m + p * n)
    theta = np.concatenate([W.ravel(), U.ravel(), C.ravel()])

    def markov(t):
        return markov_parameters(t[:9].reshape(3, 3), t[9:15].reshape(3, 2), t[15:].reshape(2, 3), n_lags).ravel()

    direction = np.random.default_rng(6).standard_normal(theta.size)
    step = 1e-6
    central = (markov(theta + step * direction) - markov(theta - step * direction)) / (2 * step)
    # Central differences of a polynomial of degree <= n_lags + 1 in the step: error O(step^2) ~ 1e-12,
    # plus round-off ~ 1e-16 / step ~ 1e-10.
    np.testing.assert_allclose(J @ direction, central, atol=1e-8)
    # A similarity T = I + X changes (W, U, C) by (W X - X W, -X U, C X) to first order and no
    # Markov parameter at all; for a generic (minimal) realisation that is the whole null space.
    X = np.random.default_rng(7).standard_normal((n, n))
    similarity = np.concatenate([(W @ X - X @ W).ravel(), (-X @ U).ravel(), (C @ X).ravel()])
    np.testing.assert_allclose(J @ similarity, 0.0, atol=1e-13)
    assert np.linalg.matrix_rank(J) == n * (m + p)


def test_realisation_sensitivity_of_a_scalar_system_is_the_inverse_of_an_orthogonal_residual():
    w, u, c, n_lags = 0.6, 1.5, -0.8, 12
    # h_k = c w^k u. dh/dw = k c u w^(k-1); dh/du and dh/dc are both multiples of w^k (the scalar
    # similarity u -> u / t, c -> c t moves along them). The least-norm change producing dh has
    # dw = <dh, a_perp> / ||a_perp||^2, a_perp the part of dh/dw orthogonal to (w^k): its largest
    # ratio |dw| / ||dh|| is 1 / ||a_perp||.
    k = np.arange(n_lags)
    a = k * c * u * w ** np.maximum(k - 1, 0)
    b = w ** k
    a_perp = a - (a @ b) / (b @ b) * b
    sensitivity = realisation_sensitivity(np.array([[w]]), np.array([[u]]), np.array([[c]]), n_lags)
    assert sensitivity == pytest.approx(1.0 / np.linalg.norm(a_perp), rel=1e-10)


def test_pseudospectral_distance_of_a_normal_matrix_is_the_distance_to_its_spectrum():
    rng = np.random.default_rng(8)
    eigenvalues = np.array([0.5, -0.2 + 0.3j, -0.2 - 0.3j])
    V = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    block = np.array([[0.5, 0, 0], [0, -0.2, 0.3], [0, -0.3, -0.2]])  # real form of the eigenvalues
    W = V @ block @ V.T
    z = np.array([0.5, 0.1 + 0.1j, -0.7j, 2.0])
    expected = np.min(np.abs(z[:, None] - eigenvalues[None, :]), axis=1)
    np.testing.assert_allclose(pseudospectral_distance(W, z), expected, atol=1e-14)
    values, kappa = eigenvalue_condition_numbers(W)
    np.testing.assert_allclose(kappa, 1.0, atol=1e-12)


def test_a_jordan_block_lets_its_eigenvalue_move_like_eps_to_the_one_over_m():
    lam, m, eps = 0.4, 3, 1e-6
    jordan = lam * np.eye(m) + np.eye(m, k=1)
    # J + eps e_m e_1^T has characteristic polynomial (mu - lam)^m - eps: its eigenvalues sit at
    # distance eps^(1/m) = 0.01 from lam, 10^4 times the perturbation.
    moved = lam + eps ** (1 / m) * np.exp(2j * np.pi * np.arange(m) / m)
    perturbed = jordan.copy()
    perturbed[-1, 0] = eps
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(perturbed)), np.sort_complex(moved), atol=1e-12)
    # Yes: each is within eps of the Jordan block (a perturbation of norm eps makes it an eigenvalue);
    # sigma_min(delta I - N) = |delta|^m (1 + O(|delta|^2)) for the shift N, so the bound is nearly tight.
    distance = pseudospectral_distance(jordan, moved)
    assert np.all(distance <= eps * (1 + 1e-9)) and np.all(distance >= 0.99 * eps)
    # No: a semisimple eigenvalue of the same multiplicity (a normal matrix, condition 1) moves by at
    # most eps; points 0.01 away are 10^4 eps from its spectrum.
    np.testing.assert_allclose(pseudospectral_distance(lam * np.eye(m), moved), eps ** (1 / m), rtol=1e-12)


def test_eigenvalue_condition_numbers_of_a_triangular_matrix():
    a, b, t = 0.6, 0.5, 0.3
    values, kappa = eigenvalue_condition_numbers(np.array([[a, t], [0.0, b]]))
    # Right eigenvectors (1, 0) and (t, b - a); left ones (a - b, t) and (0, 1): kappa = ||x|| ||y|| / |y^H x|
    # = sqrt(1 + (t / (a - b))^2) for both.
    np.testing.assert_allclose(np.sort(values.real), [b, a], rtol=1e-15)
    np.testing.assert_allclose(kappa, math.sqrt(1 + (t / (a - b)) ** 2), rtol=1e-12)


def test_autocovariance_of_a_scalar_system_and_its_toeplitz_bound():
    a, q, r, n_lags = 0.8, 0.5, 0.3, 5
    T = autocovariance_toeplitz([[a]], [[1.0]], [[q]], [[r]], n_lags)
    # Gamma(tau) = a^|tau| q / (1 - a^2) + r [tau = 0].
    tau = np.abs(np.subtract.outer(np.arange(n_lags), np.arange(n_lags)))
    np.testing.assert_allclose(T, a ** tau * q / (1 - a**2) + r * np.eye(n_lags), rtol=1e-12)
    for system in (kalmannet_canonical_system(5, rho=0.9), random_stable_system(np.random.default_rng(9), 4, 2, 0.9)):
        T = autocovariance_toeplitz(system.A, system.C, system.Q, system.R, 20)
        # The spectral density is >= R: no direction of the past costs less than lambda_min(R).
        assert np.linalg.eigvalsh(T)[0] >= np.linalg.eigvalsh(system.R)[0] * (1 - 1e-12)


def test_excess_mse_is_what_a_detuned_predictor_loses_on_simulated_data():
    system = kalmannet_canonical_system(2, rho=0.9)
    A, C, Q, R = system.A, system.C, system.Q, system.R
    P, K = steady_state_kalman(A, C, Q, R)
    W, G = kalman_predictor_matrices(A, C, K)
    n_lags = 60  # 0.5 rho(W) and rho(W) < 0.4: the impulse responses are below 1e-20 beyond
    delta = markov_parameters(0.5 * W, G, C, n_lags) - markov_parameters(W, G, C, n_lags)
    predicted = excess_mse(delta, A, C, Q, R)
    assert predicted >= np.linalg.eigvalsh(R)[0] * np.sum(delta**2)
    _, y = simulate_lgssm(A, C, Q, R, 2000, np.random.default_rng(10), n_sequences=20)
    burn_in = 100
    optimal = kalman_predict(y, A, C, K)[:, burn_in:]
    detuned = _predict(y, 0.5 * W, G, C)[:, burn_in:]
    losses = ((detuned - y[:, burn_in:]) ** 2).sum(axis=-1) - ((optimal - y[:, burn_in:]) ** 2).sum(axis=-1)
    # The measured excess per step, averaged over 20 x 1900 correlated steps: allow 4 standard errors of
    # the per-sequence means (sequences are independent).
    per_sequence = losses.mean(axis=1)
    se = per_sequence.std(ddof=1) / math.sqrt(per_sequence.size)
    assert abs(per_sequence.mean() - predicted) <= 4 * se


def _predict(y, W, G, C):
    """One-step predictions of the linear predictor (W, G, C) from a zero state: (..., T, p)."""
    x = np.zeros(y.shape[:-2] + (W.shape[0],))
    out = np.empty_like(y)
    for t in range(y.shape[-2]):
        out[..., t, :] = x @ C.T
        x = x @ W.T + y[..., t, :] @ G.T
    return out


def test_markov_parameters_are_matrix_powers():
    rng = np.random.default_rng(4)
    W, U, C = rng.standard_normal((3, 3)) / 3, rng.standard_normal((3, 2)), rng.standard_normal((2, 3))
    markov = markov_parameters(W, U, C, 5)
    for k in range(5):
        np.testing.assert_allclose(markov[k], C @ np.linalg.matrix_power(W, k) @ U, rtol=1e-12, atol=1e-14)


def test_markov_estimation_error_of_a_noiseless_ar1_is_sqrt_2_over_n():
    # y = x, x_{t+1} = a x_t + w: the predictor is c u sum_k w^k y_{t-k} at w = 0, c u = a. Its
    # parameters (c u, w) have sensitivities (y_t, a y_{t-1}), information F = gamma0 [[1, a^2], [a^2, a^2]]
    # and G = q F (scalar innovations), so Cov = q F^-1 / N gives Var(h_0) = Var(h_1) = 1 / N (gamma0 =
    # q / (1 - a^2)) and the later Markov parameters do not move: E ||dh||^2 = 2 / N, whatever a is.
    for a in (0.3, 0.7):
        A, C, Q, R = np.array([[a]]), np.eye(1), np.eye(1), np.array([[1e-12]])
        P, K = steady_state_kalman(A, C, Q, R)
        W, G = kalman_predictor_matrices(A, C, K)
        _, y = simulate_lgssm(A, C, Q, R, 401, np.random.default_rng(12), n_sequences=200)
        error = markov_estimation_error(W, G, C, y, np.ones(1), C @ P @ C.T + R, 8, n_observations=10_000)
        # F is averaged over 80,000 steps: a few per cent of sampling error in each entry.
        assert error == pytest.approx(math.sqrt(2 / 10_000), rel=0.03)


def test_markov_estimation_error_does_not_depend_on_the_order_of_the_outputs():
    system = random_stable_system(np.random.default_rng(17), 3, 2, 0.8, q=1.0, r=0.2)
    A, C, Q, R = system.A, system.C, system.Q, system.R
    P, K = steady_state_kalman(A, C, Q, R)
    W, G = kalman_predictor_matrices(A, C, K)
    S = C @ P @ C.T + R
    assert abs(S[0, 1]) > 0.5 * math.sqrt(S[0, 0] * S[1, 1])  # correlated innovations: the order matters
    _, y = simulate_lgssm(A, C, Q, R, 11, np.random.default_rng(14), n_sequences=400, x0_cov=P)
    weight = np.array([1.0, 4.0])
    error = markov_estimation_error(W, G, C, y, weight, S, 10)
    swap = np.array([1, 0])
    swapped = markov_estimation_error(W, G[:, swap], C[swap], y[..., swap], weight[swap], S[np.ix_(swap, swap)], 10)
    # The same fit with the outputs relabelled: the Markov parameters are permuted, their error is not.
    assert swapped == pytest.approx(error, rel=1e-10)


def test_markov_estimation_error_is_least_for_the_maximum_likelihood_weight():
    # Decoupled outputs: S is diagonal, so the weight 1 / diag(S) is S^-1, maximum likelihood. Then
    # G = F and the covariance F^+ is the Cramer-Rao bound, below the sandwich F^+ G F^+ of any other
    # weight (matrix Cauchy-Schwarz, exact for the same sample averages).
    A, C, Q, R = np.diag([0.8, 0.5]), np.eye(2), np.diag([0.5, 1.0]), np.diag([1.0, 0.3])
    P, K = steady_state_kalman(A, C, Q, R)
    W, G = kalman_predictor_matrices(A, C, K)
    S = C @ P @ C.T + R
    np.testing.assert_allclose(S, np.diag(np.diag(S)), atol=1e-12)
    _, y = simulate_lgssm(A, C, Q, R, 11, np.random.default_rng(15), n_sequences=400, x0_cov=P)
    efficient = markov_estimation_error(W, G, C, y, 1 / np.diag(S), S, 10)
    for weight in ([1.0, 1.0], [1.0, 10.0], [10.0, 1.0]):
        assert efficient <= markov_estimation_error(W, G, C, y, np.array(weight), S, 10) * (1 + 1e-12)
