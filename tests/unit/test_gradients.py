"""Gradient norm against lag by BPTT and its growth rate (rnndyn.analysis.gradients)."""

import math

import numpy as np
import pytest
import torch

from rnndyn.analysis.gradients import bptt_log_gradient_norms, gradient_growth_rate


def _linear_step(W: torch.Tensor):
    def step(x, h):
        return h @ W.T + x
    return step


def _haar(n: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def test_normal_linear_network_grows_at_log_rho_exactly():
    # W = rho Q with Q orthogonal: ||c^T W^lag|| = rho^lag for a unit c, at every lag.
    rng = np.random.default_rng(0)
    n, n_lags = 6, 50
    for rho in (0.7, 1.0, 1.3):
        W = torch.from_numpy(rho * _haar(n, rng))
        c = torch.from_numpy(rng.standard_normal(n))
        c /= torch.linalg.vector_norm(c)
        h0 = torch.from_numpy(rng.standard_normal((3, n)))
        log_norms = bptt_log_gradient_norms(_linear_step(W), h0, torch.zeros(n_lags, 3, n, dtype=torch.float64), c)
        assert log_norms.shape == (3, n_lags + 1)
        # Round-off: each of the 50 products has relative error ~ n eps ~ 1e-15.
        np.testing.assert_allclose(log_norms, np.arange(n_lags + 1) * math.log(rho) * np.ones((3, 1)), atol=1e-12)
        rate, error = gradient_growth_rate(log_norms, min_lag=10)
        assert rate == pytest.approx(math.log(rho), abs=1e-13)
        assert error == pytest.approx(0.0, abs=1e-13)


def test_non_normal_linear_network_grows_at_log_spectral_radius():
    # W = V diag(rho, rho/2, rho/4, -rho/3) V^-1: ||c^T W^lag|| = K rho^lag (1 + O(2^-lag)), so on lags
    # >= 30 the slope is log rho up to ~2^-30 ~ 1e-9 (the non-normal transient is gone).
    rng = np.random.default_rng(1)
    rho = 1.1
    V = rng.standard_normal((4, 4))
    W = V @ np.diag([rho, rho / 2, rho / 4, -rho / 3]) @ np.linalg.inv(V)
    c = torch.from_numpy(np.ones(4) / 2.0)
    log_norms = bptt_log_gradient_norms(_linear_step(torch.from_numpy(W)), torch.zeros(1, 4, dtype=torch.float64),
                                        torch.zeros(100, 1, 4, dtype=torch.float64), c)
    rate, _ = gradient_growth_rate(log_norms, min_lag=30)
    assert rate == pytest.approx(math.log(rho), abs=1e-8)
    # The short lags carry the transient: a fit there is visibly off.
    early, _ = gradient_growth_rate(log_norms, min_lag=0, max_lag=5)
    assert abs(early - math.log(rho)) > 1e-3


def test_bptt_matches_the_product_of_tanh_jacobians():
    # For h <- tanh(W h + x), dL/dh_{T-lag} = (J_{T-lag+1} ... J_T)^T c with J_t = diag(1 - h_t^2) W.
    rng = np.random.default_rng(2)
    n, T = 5, 12
    W = torch.from_numpy(rng.standard_normal((n, n)) * 1.5 / math.sqrt(n))
    x = torch.from_numpy(rng.standard_normal((T, 1, n)) * 0.3)
    h0 = torch.from_numpy(rng.uniform(-1, 1, (1, n)))
    c = torch.from_numpy(rng.standard_normal(n))

    def step(x_t, h):
        return torch.tanh(h @ W.T + x_t)

    log_norms = bptt_log_gradient_norms(step, h0, x, c)
    states = [h0[0]]
    for t in range(T):
        states.append(step(x[t], states[-1][None])[0])
    v, expected = c.clone(), [torch.linalg.vector_norm(c)]
    for t in range(T, 0, -1):
        v = W.T @ ((1.0 - states[t] ** 2) * v)
        expected.append(torch.linalg.vector_norm(v))
    # Same operations in a different order: agreement to float64 round-off.
    np.testing.assert_allclose(np.exp(log_norms[0]), torch.stack(expected).numpy(), rtol=1e-12)


def test_leading_batch_dims_and_exact_zero_gradients():
    # A nilpotent map kills the gradient after two steps: log 0 = -inf and a rate of -inf.
    W = torch.tensor([[0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    c = torch.tensor([1.0, 0.0], dtype=torch.float64)
    log_norms = bptt_log_gradient_norms(_linear_step(W), torch.zeros(2, 3, 2, dtype=torch.float64),
                                        torch.zeros(6, 2, 3, 2, dtype=torch.float64), c)
    assert log_norms.shape == (2, 3, 7)
    np.testing.assert_array_equal(log_norms[..., 0], 0.0)
    assert np.isneginf(log_norms[..., 2:]).all()
    rate, _ = gradient_growth_rate(log_norms, min_lag=1)
    assert np.isneginf(rate).all()


def test_growth_rate_is_the_mean_of_trajectory_slopes():
    rng = np.random.default_rng(3)
    lags = np.arange(40)
    slopes = np.array([0.1, 0.3, -0.2, 0.0])
    log_norms = slopes[:, None] * lags + rng.standard_normal((4, 1))  # exact lines, random offsets
    rate, error = gradient_growth_rate(log_norms, min_lag=5)
    assert rate == pytest.approx(slopes.mean(), abs=1e-12)
    assert error == pytest.approx(slopes.std(ddof=1) / 2.0, abs=1e-12)
    with pytest.raises(ValueError):
        gradient_growth_rate(log_norms, min_lag=39)
