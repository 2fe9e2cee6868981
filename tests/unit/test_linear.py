"""Linear RNN memory and constant-input fixed point (claims `memory`, `linear-fixed-point`)."""

import math

import numpy as np
import pytest

from rnndyn.analysis.linear import (
    constant_input_fixed_point,
    converges_to_fixed_point,
    decay_rate,
    impulse_response,
    iterate_constant_input,
    memory_horizon,
    predicted_memory_horizon,
    random_matrix_with_spectral_radius,
    recurrent_state,
    unrolled_state,
)


@pytest.mark.parametrize("normal", [True, False])
def test_unrolled_sum_equals_recursion(normal):
    rng = np.random.default_rng(0)
    n, m, T = 12, 3, 60
    W = random_matrix_with_spectral_radius(rng, n, 0.95, normal=normal)
    U, x, h0 = rng.standard_normal((n, m)), rng.standard_normal((T, m)), rng.standard_normal(n)
    recursed = recurrent_state(W, U, x, h0)
    unrolled = unrolled_state(W, U, x, h0)
    # Both sum the same T + 1 terms of size O(||U x||) in a different order: round-off of a few
    # hundred ulps of the largest term (||h|| is O(10) here), far below any modelling difference.
    np.testing.assert_allclose(unrolled, recursed, rtol=0, atol=1e-12 * np.abs(recursed).max() * T)


def test_unrolled_state_index_convention():
    # h_T = sum_i W^i U x_{T-i} + W^T h_0 with x[t-1] = x_t: the newest input enters unweighted.
    W = np.array([[0.5]])
    U = np.array([[1.0]])
    x = np.array([[1.0], [10.0], [100.0]])  # x_1, x_2, x_3
    h0 = np.array([1000.0])
    expected = 100.0 + 0.5 * 10.0 + 0.25 * 1.0 + 0.125 * 1000.0
    assert unrolled_state(W, U, x, h0)[0] == expected
    assert recurrent_state(W, U, x, h0)[0] == expected


@pytest.mark.parametrize("normal", [True, False])
@pytest.mark.parametrize("n", [1, 2, 7])
def test_spectral_radius_is_exact(normal, n):
    rng = np.random.default_rng(n)
    W = random_matrix_with_spectral_radius(rng, n, 0.8, normal=normal)
    # Eigenvalues of a well-conditioned small matrix are accurate to ~1e-15 relative.
    assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(0.8, abs=1e-12)
    if normal:
        # W W^T = W^T W to round-off for a normal matrix.
        np.testing.assert_allclose(W @ W.T, W.T @ W, atol=1e-14)


def test_normal_matrix_impulse_response_matches_spectral_formula_and_decays_at_log_rho():
    rng = np.random.default_rng(3)
    n, rho, K = 8, 0.9, 400
    W = random_matrix_with_spectral_radius(rng, n, rho, normal=True)
    U = rng.standard_normal((n, 2))
    norms = impulse_response(W, U, K)
    # W normal: unitary eigenvectors V, so ||W^k U||_F^2 = sum_j |lambda_j|^{2k} ||(V^H U)_j||^2.
    lam, V = np.linalg.eig(W)
    weights = np.sum(np.abs(V.conj().T @ U) ** 2, axis=1)
    k = np.arange(K)[:, None]
    exact = np.sqrt(np.sum(np.abs(lam) ** (2 * k) * weights, axis=1))
    # Accumulated round-off of k matrix products: a few ulps per step, relative to the norm.
    np.testing.assert_allclose(norms, exact, rtol=1e-12 * K)

    rate = decay_rate(norms)
    # On the tail k >= K/2: log norm = k log rho + delta_k with
    # 0 <= delta_k <= (1/2) (W_rest / W_lead) s^{2 K/2}, s = second largest modulus / rho.
    # A least-squares slope over L points of values bounded by eps is at most 3 eps / L.
    moduli = np.abs(lam)
    lead = np.isclose(moduli, rho, rtol=1e-12)
    s = moduli[~lead].max() / rho
    eps = 0.5 * weights[~lead].sum() / weights[lead].sum() * s ** K
    assert abs(rate - math.log(rho)) <= 3 * eps / (K / 2) + 1e-12


def test_decay_rate_and_memory_horizon_for_scaled_orthogonal_matrix():
    rng = np.random.default_rng(4)
    n, rho, threshold = 6, 0.7, 1e-3
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    norms = impulse_response(rho * Q, rng.standard_normal(n), 60)
    # ||(rho Q)^k u|| = rho^k ||u|| exactly: the fitted rate is log rho up to round-off.
    assert decay_rate(norms) == pytest.approx(math.log(rho), abs=1e-12)
    predicted = predicted_memory_horizon(rho, threshold)  # 19.37 steps
    assert memory_horizon(norms, threshold) == math.ceil(predicted)


def test_non_normal_matrix_grows_before_it_decays():
    rng = np.random.default_rng(0)
    n, rho, K = 20, 0.95, 800
    W = random_matrix_with_spectral_radius(rng, n, rho, normal=False)
    # The non-normal part leaves the spectrum alone (eigenvalues of the perturbed Schur form are
    # accurate to ~1e-14 here).
    assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(rho, abs=1e-12)
    norms = impulse_response(W, rng.standard_normal(n), K)
    # Feed-forward amplification: a random input grows at least two-fold although rho < 1 ...
    assert norms.max() > 2 * norms[0]
    # ... and the tail decays at log rho. Unlike the normal case there is no exponentially small
    # bound: the leading complex pair's contribution oscillates in norm (its eigenvectors are not
    # orthogonal), which biases a slope fitted over L steps by O(1/L). We hold it to the study's
    # 2% tolerance on rates.
    assert decay_rate(norms) == pytest.approx(math.log(rho), rel=0.02)


def test_memory_horizon_is_infinite_without_decay():
    assert memory_horizon(np.ones(10), 0.5) == math.inf
    assert predicted_memory_horizon(1.0, 0.5) == math.inf


@pytest.mark.parametrize("normal", [True, False])
def test_constant_input_converges_iff_spectral_radius_below_one(normal):
    rng = np.random.default_rng(6)
    n, m = 10, 2
    U, u, h0 = rng.standard_normal((n, m)), rng.standard_normal(m), rng.standard_normal(n)
    for rho in [0.3, 0.9, 0.99, 1.0, 1.01, 1.3]:
        W = random_matrix_with_spectral_radius(np.random.default_rng(7), n, rho, normal=normal)
        # 6000 steps: 0.99^6000 = 6e-27, far below rtol even after a non-normal transient.
        converged = converges_to_fixed_point(W, U, u, h0, 6000, rtol=1e-10)
        assert converged == (rho < 1), rho
        if rho < 1:
            h_star = constant_input_fixed_point(W, U, u)
            np.testing.assert_allclose(h_star, np.linalg.inv(np.eye(n) - W) @ U @ u, rtol=1e-10)
            final = iterate_constant_input(W, U, u, h0, 6000)[-1]
            # Residual after convergence: round-off of the iteration, relative to ||h*||.
            np.testing.assert_allclose(final, h_star, atol=1e-10 * np.linalg.norm(h_star))


def test_fixed_point_exists_but_does_not_attract_on_the_unit_circle():
    rng = np.random.default_rng(8)
    W = random_matrix_with_spectral_radius(rng, 4, 1.0, normal=True)
    U, u, h0 = np.eye(4), np.ones(4), np.zeros(4)
    h_star = constant_input_fixed_point(W, U, u)
    trajectory = iterate_constant_input(W, U, u, h0, 2000)
    distance = np.linalg.norm(trajectory - h_star, axis=1)
    # Normal W with a unit-modulus complex pair: the distance along that pair is conserved
    # exactly, so it never drops below the pair's share of the initial distance.
    lam, V = np.linalg.eig(W)
    on_circle = np.isclose(np.abs(lam), 1.0)
    conserved = np.linalg.norm((V.conj().T @ (h0 - h_star))[on_circle])
    assert distance.min() >= conserved * (1 - 1e-9)
    assert not converges_to_fixed_point(W, U, u, h0, 2000)
