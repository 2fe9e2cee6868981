"""Linear autoregressive baseline for the Lorenz forecasting experiment (claim `takens`)."""

import numpy as np
import pytest

from rnndyn.analysis.autoregressive import (
    AutoregressiveCoefficients,
    autoregressive_rollout,
    fit_autoregressive,
)


def _simulate(weights, intercept, start, n, noise=None):
    """x_t = c + sum_k a_k x_{t-k} + e_t from the p values in ``start`` (oldest first)."""
    x = list(start)
    for t in range(n):
        value = intercept + sum(a * x[-k] for k, a in enumerate(weights, start=1))
        x.append(value + (0.0 if noise is None else noise[t]))
    return np.array(x)


def test_noise_free_series_is_fitted_exactly():
    x = _simulate([1.2, -0.5], 0.3, [5.0, -2.0], 60)
    coefs = fit_autoregressive(x, order=2)
    # The recursion holds exactly in every window: least squares recovers it to round-off.
    np.testing.assert_allclose(coefs.weights, [1.2, -0.5], atol=1e-10)
    assert coefs.intercept == pytest.approx(0.3, abs=1e-10)


def test_ar2_coefficients_recovered_from_a_long_noisy_series():
    noise = np.random.default_rng(0).standard_normal(100_000)
    x = _simulate([1.2, -0.5], 0.0, [0.0, 0.0], 100_000, noise)
    coefs = fit_autoregressive(x, order=2)
    # Asymptotic standard error of each AR(2) coefficient: sqrt((1 - a_2^2) / T) = 0.0027 at
    # T = 1e5 (Box & Jenkins); 0.014 is five standard errors.
    np.testing.assert_allclose(coefs.weights, [1.2, -0.5], atol=0.014)
    assert coefs.intercept == pytest.approx(0.0, abs=0.02)  # sd 1 / (sqrt(T) (1 - a1 - a2)) = 0.01


def test_batch_windows_do_not_straddle_series():
    first = _simulate([0.9, -0.2], 1.0, [3.0, 4.0], 40)
    second = _simulate([0.9, -0.2], 1.0, [-7.0, 2.0], 40)
    coefs = fit_autoregressive(np.stack([first, second]), order=2)
    # Exact only if no window joins the end of one series to the start of the other.
    np.testing.assert_allclose(coefs.weights, [0.9, -0.2], atol=1e-10)
    joined = fit_autoregressive(np.concatenate([first, second]), order=2)
    assert np.max(np.abs(joined.weights - [0.9, -0.2])) > 1e-3


def test_strong_ridge_shrinks_weights_to_zero_and_intercept_to_the_mean():
    x = np.random.default_rng(1).standard_normal(1_000) + 4.0
    coefs = fit_autoregressive(x, order=3, ridge=1e12)
    # Weights ~ covariance / ridge ~ 1e-12; the unpenalised intercept is then the mean of the targets.
    np.testing.assert_allclose(coefs.weights, 0.0, atol=1e-10)
    assert coefs.intercept == pytest.approx(x[3:].mean(), abs=1e-9)


def test_rollout_continues_the_recursion_exactly():
    coefs = AutoregressiveCoefficients(np.array([1.2, -0.5]), 0.3)
    series = _simulate([1.2, -0.5], 0.3, [5.0, -2.0], 30)
    other = _simulate([1.2, -0.5], 0.3, [1.0, 1.0], 30)
    warmup = np.stack([series[:2], other[:2]])
    predicted = autoregressive_rollout(coefs, warmup, 30)
    # The same two-term recursion as the simulation: round-off only.
    np.testing.assert_allclose(predicted, np.stack([series[2:], other[2:]]), rtol=1e-14)
    np.testing.assert_allclose(autoregressive_rollout(coefs, series[:2], 30), series[2:], rtol=1e-14)


def test_rollout_rejects_a_warmup_of_the_wrong_length():
    coefs = AutoregressiveCoefficients(np.array([0.5, 0.1, 0.0]), 0.0)
    with pytest.raises(ValueError):
        autoregressive_rollout(coefs, np.zeros((2, 2)), 5)
