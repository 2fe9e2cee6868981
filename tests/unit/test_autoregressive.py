"""Linear autoregressive baseline and linear-Gaussian nulls (claims `takens`, `dsr-metrics`)."""

import numpy as np
import pytest

from scipy.signal import lfilter

from rnndyn.analysis.autoregressive import (
    AutoregressiveCoefficients,
    aaft_surrogates,
    autoregressive_rollout,
    fit_autoregressive,
    fit_linear_gaussian_null,
    yule_walker_null,
    simulate_linear_gaussian_null,
)
from rnndyn.analysis.dsr import HESS_2023, power_spectrum_distance, state_space_divergence
from rnndyn.analysis.embedding import delay_cloud
from rnndyn.systems.lorenz import integrate_lorenz


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


# ---- linear-Gaussian null ------------------------------------------------------------------


def test_null_weights_equal_the_scalar_fit():
    noise = np.random.default_rng(2).standard_normal((2, 3_000))
    x = np.stack([_simulate([1.2, -0.5], 0.3, [0.0, 0.0], 2_998, n) for n in noise])
    null, coefs = fit_linear_gaussian_null(x, 3, ridge=0.1), fit_autoregressive(x, 3, ridge=0.1)
    np.testing.assert_allclose(null.weights[:, 0, 0], coefs.weights, rtol=1e-12)
    assert null.intercept[0] == pytest.approx(coefs.intercept, rel=1e-12)


def test_null_recovers_a_vector_ar1_and_its_noise_covariance():
    rng = np.random.default_rng(3)
    a, chol = np.array([[0.5, 0.2], [-0.1, 0.7]]), np.array([[1.0, 0.0], [0.5, 0.5]])
    x = np.zeros((20_000, 2))
    for t in range(1, x.shape[0]):
        x[t] = a @ x[t - 1] + chol @ rng.standard_normal(2)
    null = fit_linear_gaussian_null(x[None], 1)
    # Standard errors ~ sqrt(Sigma_ii / (T var x_j)) ~ 0.006 for the weights and
    # sqrt(2 / T) Sigma_ii ~ 0.01 for the covariance; the tolerances are about five of them.
    np.testing.assert_allclose(null.weights[0], a, atol=0.03)
    np.testing.assert_allclose(null.noise_covariance, chol @ chol.T, atol=0.05)


def test_noisy_ar1_keeps_the_variance_and_lag1_autocorrelation_the_noiseless_one_loses():
    a, n_data, n_series, n_steps = 0.9, 100_000, 40, 5_000
    rng = np.random.default_rng(4)
    data = lfilter([1.0], [1.0, -a], rng.standard_normal(n_data + 1_000))[1_000:]  # stationary AR(1), unit noise
    null = fit_linear_gaussian_null(data, 1)
    warmup = data[rng.integers(0, n_data, n_series)][:, None]  # stationary starts
    generated = simulate_linear_gaussian_null(null, warmup, n_steps, rng)
    assert generated.shape == (n_series, n_steps)
    variance = generated.var()
    lag1 = np.corrcoef(generated[:, 1:].ravel(), generated[:, :-1].ravel())[0, 1]
    a_hat, noise_hat = null.weights[0, 0, 0], null.noise_covariance[0, 0]
    # Against the fitted model's own stationary variance sigma^2 / (1 - a^2): only the simulation's
    # spread, sqrt(2 (1 + a^2) / ((1 - a^2) n)) / sqrt(40) = 0.0098 relative per series of
    # n = 5,000; 5 % is five of them.
    assert variance == pytest.approx(noise_hat / (1 - a_hat**2), rel=0.05)
    # Against the process's 1 / (1 - a^2) = 5.26: add the fit's error, sd(a_hat) =
    # sqrt((1 - a^2) / T) = 0.0014 -> 2a / (1 - a^2) * 0.0014 = 1.3 % in variance, and
    # sqrt(2 / T) = 0.45 % in sigma^2: 1.7 % in all, 8.5 % is five of it.
    assert variance == pytest.approx(1.0 / (1.0 - a**2), rel=0.085)
    # Lag-1 autocorrelation a: sd sqrt((1 - a^2) / 2e5) = 0.001 (simulation) and 0.0014 (fit).
    assert lag1 == pytest.approx(a, abs=0.01)
    # The noiseless rollout of the same fit relaxes to the mean: a^4000 ~ 1e-183.
    noiseless = autoregressive_rollout(AutoregressiveCoefficients(null.weights[:, 0, 0], float(null.intercept[0])),
                                       warmup, n_steps)
    assert noiseless[:, 4_000:].var() < 1e-20
    assert generated[:, 4_000:].var() > 4.0


def test_null_run_is_reproducible_from_the_generator():
    null = fit_linear_gaussian_null(np.random.default_rng(5).standard_normal((3, 200, 2)), 2)
    warmup = np.zeros((3, 2, 2))
    first = simulate_linear_gaussian_null(null, warmup, 50, np.random.default_rng(9))
    again = simulate_linear_gaussian_null(null, warmup, 50, np.random.default_rng(9))
    other = simulate_linear_gaussian_null(null, warmup, 50, np.random.default_rng(10))
    assert first.shape == (3, 50, 2)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


# ---- amplitude-adjusted Fourier-transform surrogates ----------------------------------------


@pytest.fixture(scope="module")
def lorenz_x():
    """x(t) of two RK4 Lorenz trajectories, dt 0.01, 10,000 steps after 1,000 transient."""
    states = integrate_lorenz(np.array([[1.0, 1.0, 20.0], [-3.0, 2.0, 25.0]]), dt=0.01, n_steps=10_000,
                              n_transient=1_000)
    return states[0, 1:, 0], states[1, 1:, 0]


def test_aaft_keeps_the_values_exactly_and_the_spectrum_approximately(lorenz_x):
    other, x = lorenz_x
    surrogates = aaft_surrogates(x, 3, np.random.default_rng(11))
    assert surrogates.shape == (3, x.shape[0])
    for surrogate in surrogates:
        np.testing.assert_array_equal(np.sort(surrogate), np.sort(x))  # the same amplitude distribution
        assert not np.array_equal(surrogate, x)
        # Smoothed spectra (Hess et al.'s D_H): 0.077-0.089 measured, against 0.015 between the
        # two true trajectories and 1 for disjoint spectra.
        assert power_spectrum_distance(surrogate, x, HESS_2023) < 0.15


def test_an_aaft_surrogate_cannot_fake_the_lorenz_attractor(lorenz_x):
    other, x = lorenz_x
    surrogate = aaft_surrogates(x, 1, np.random.default_rng(12))[0]
    cloud = {name: delay_cloud(series[None], 3, 10) for name, series in
             (("x", x), ("other", other), ("surrogate", surrogate))}
    true_vs_true = state_space_divergence(cloud["other"], cloud["x"], HESS_2023)
    surrogate_vs_true = state_space_divergence(cloud["surrogate"], cloud["x"], HESS_2023)
    # Delay vectors (3, lag 10 = 0.1 time units), 30 bins: 0.32 between the two true
    # trajectories, 4.3-4.5 for surrogates (four measured): the same values and nearly the same
    # spectrum, but not the same geometry.
    assert true_vs_true < 0.5
    assert surrogate_vs_true > 2.0 and surrogate_vs_true > 5 * true_vs_true


def test_yule_walker_recovers_a_vector_ar2_and_keeps_the_variance():
    rng = np.random.default_rng(3)
    a1, a2 = np.array([[0.5, 0.2], [-0.1, 0.4]]), np.array([[-0.2, 0.0], [0.1, -0.3]])
    noise = np.array([[1.0, 0.3], [0.3, 0.5]])
    e = rng.standard_normal((40_000, 2)) @ np.linalg.cholesky(noise).T
    x = np.zeros((40_000, 2))
    for t in range(2, x.shape[0]):
        x[t] = a1 @ x[t - 1] + a2 @ x[t - 2] + e[t]
    null = yule_walker_null(x[None], 2)
    # Standard errors of the weights are ~1/sqrt(T) = 0.005: 4 of them.
    np.testing.assert_allclose(null.weights, np.stack([a1, a2]), atol=0.02)
    np.testing.assert_allclose(null.noise_covariance, noise, atol=0.03)


def test_yule_walker_on_short_lorenz_series_is_stable_and_keeps_the_variance(lorenz_x):
    # Short pieces of Lorenz x with a little observation noise, the data job's situation: the
    # Yule-Walker AR(8) is stable (Whittle 1963) and its noise-driven run has the data's variance
    # (the lag-0 autocovariance is matched by construction; 20,000 steps leave a sampling error of
    # a few per cent at Lorenz x's correlation time of ~100 steps, hence 15 %).
    x = np.stack([s[:400] for s in lorenz_x]) / 8.0
    x = x + 0.05 * np.random.default_rng(0).standard_normal(x.shape)
    null = yule_walker_null(x, 8)
    companion = np.zeros((8, 8))
    companion[0] = null.weights[:, 0, 0]
    companion[1:, :-1] = np.eye(7)
    assert np.abs(np.linalg.eigvals(companion)).max() < 1.0
    generated = simulate_linear_gaussian_null(null, x[:, -8:], 20_000, np.random.default_rng(1))
    assert generated.var() / x.var() == pytest.approx(1.0, rel=0.15)
