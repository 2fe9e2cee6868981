"""Dynamical-systems-reconstruction metrics: D_stsp, D_H and valid prediction time (claim `dsr-metrics`)."""

import numpy as np
import pytest

from rnndyn.analysis.dsr import (
    EMPTY_BIN_PROBABILITY,
    power_spectrum_hellinger,
    reconstruction_metrics,
    state_space_divergence,
    valid_prediction_time,
)


def test_state_space_divergence_of_a_sample_with_itself_is_zero():
    x = np.random.default_rng(0).standard_normal((5_000, 3))
    assert state_space_divergence(x, x, n_bins=10) == 0.0


def test_state_space_divergence_hand_computed():
    x_true = np.array([0.0, 1.0, 2.0, 3.0])  # 2 bins over [0, 3]: p_true = (1/2, 1/2)
    x_gen = np.array([0.0, 0.0, 0.0, 3.0])  # p_gen = (3/4, 1/4)
    expected = 0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25)
    assert state_space_divergence(x_gen, x_true, n_bins=2) == pytest.approx(expected, rel=1e-14)


def test_unvisited_bin_gets_the_documented_epsilon():
    x_true = np.array([0.0, 1.0, 2.0, 3.0])
    x_gen = np.zeros(4)  # p_gen = (1, 0): the second bin is replaced by epsilon
    expected = 0.5 * np.log(0.5 / 1.0) + 0.5 * np.log(0.5 / EMPTY_BIN_PROBABILITY)
    assert state_space_divergence(x_gen, x_true, n_bins=2) == pytest.approx(expected, rel=1e-14)


def test_generated_mass_outside_the_true_range_is_penalised():
    x_true = np.array([0.0, 1.0, 2.0, 3.0])
    inside = np.array([0.0, 1.0, 2.0, 3.0, 1.0, 2.0])
    escaped = np.array([0.0, 1.0, 2.0, 3.0, 50.0, 60.0])  # a third of the mass left the box
    assert state_space_divergence(inside, x_true, n_bins=2) == 0.0  # same occupation, other length
    # Escaped points stay in the normalisation: p_gen = (1/3, 1/3), KL = log((1/2) / (1/3)).
    assert state_space_divergence(escaped, x_true, n_bins=2) == pytest.approx(np.log(1.5), rel=1e-14)
    diverged = np.array([0.0, 1.0, 2.0, 3.0, np.inf, np.nan])  # a model that blew up counts the same
    assert state_space_divergence(diverged, x_true, n_bins=2) == pytest.approx(np.log(1.5), rel=1e-14)


def test_state_space_divergence_of_shifted_gaussians_matches_the_continuous_kl():
    rng = np.random.default_rng(1)
    x_true = rng.standard_normal(100_000)
    x_gen = rng.standard_normal(100_000) + 0.5
    # KL(N(0,1) || N(0.5,1)) = 0.5^2 / 2 = 0.125. Sampling spread of the plug-in estimate at
    # N = 1e5 is about delta / sqrt(N) = 0.0016; binning (30 bins of 0.3 sd) changes it by < 0.001.
    assert state_space_divergence(x_gen, x_true, n_bins=30) == pytest.approx(0.125, abs=0.006)


def test_state_space_divergence_in_high_dimension_is_memory_safe():
    rng = np.random.default_rng(2)
    x_true = rng.standard_normal((2_000, 10))
    # 30 ** 10 bins could never be allocated; only occupied bins are formed. In 10 dimensions each
    # point has a bin of its own and the shifted copy visits none of them, so every term is
    # (1/T) log((1/T) / epsilon): D = log(1 / (T epsilon)) exactly.
    divergence = state_space_divergence(x_true + 1.0, x_true, n_bins=30)
    assert divergence == pytest.approx(np.log(1.0 / (2_000 * EMPTY_BIN_PROBABILITY)), rel=1e-12)


def test_hellinger_of_identical_series_is_zero():
    x = np.random.default_rng(3).standard_normal((1_024, 2))
    assert power_spectrum_hellinger(x, x, sigma=20) == 0.0


def test_hellinger_of_disjoint_spectra_is_one():
    t = np.arange(4_096)
    x_true, x_gen = np.sin(2 * np.pi * 100 * t / 4_096), np.sin(2 * np.pi * 900 * t / 4_096)
    # Whole numbers of periods: each spectrum is one FFT bin (up to round-off leakage).
    assert power_spectrum_hellinger(x_gen, x_true, sigma=0) == pytest.approx(1.0, abs=1e-9)


def test_hellinger_of_smoothed_lines_matches_gaussian_overlap():
    t = np.arange(4_096)
    x_true, x_gen = np.sin(2 * np.pi * 500 * t / 4_096), np.sin(2 * np.pi * 520 * t / 4_096)
    sigma, shift = 20.0, 20.0
    # Two Gaussians of width sigma a distance `shift` apart: sum sqrt(p q) = exp(-shift^2 / (8 sigma^2)).
    expected = np.sqrt(1.0 - np.exp(-(shift**2) / (8.0 * sigma**2)))
    # scipy truncates the kernel at 4 sigma (6e-5 of its mass), which moves H by ~5e-4.
    assert power_spectrum_hellinger(x_gen, x_true, sigma=sigma) == pytest.approx(expected, abs=2e-3)


def test_hellinger_of_white_noise_against_a_random_walk_is_large_but_below_one():
    rng = np.random.default_rng(4)
    for _ in range(5):
        noise, walk = rng.standard_normal((512, 3)), np.cumsum(rng.standard_normal((512, 3)), axis=0)
        # A flat spectrum against a 1/f^2 one: far apart (0.75-0.80 measured) yet overlapping, so
        # strictly inside (0, 1); 0.5 and 0.95 leave room for the seed.
        assert 0.5 < power_spectrum_hellinger(noise, walk, sigma=5) < 0.95


def test_valid_prediction_time_hand_constructed():
    n_steps = 100
    true = np.zeros((3, n_steps, 2))
    pred = np.zeros((3, n_steps, 2))
    ramp = np.arange(1.0, n_steps + 1)  # error t + 1 at index t
    pred[0, :, :] = ramp[:, None]  # normalised error (t + 1) / 10 > 0.4 first at t = 4
    pred[2, :, 0] = ramp * np.sqrt(2.0)  # only one of two coordinates wrong: RMS over coordinates
    valid = valid_prediction_time(pred, true, scale=10.0, dt=0.5, lyapunov_time=2.0)
    # Trajectory 0: valid for 4 steps of 0.5 = 2 time units = 1 Lyapunov time.
    # Trajectory 1: never exceeds, the full horizon 100 * 0.5 / 2 = 25.
    # Trajectory 2: error sqrt(mean((sqrt(2)(t+1), 0)^2)) / 10 = (t + 1) / 10: same as trajectory 0.
    np.testing.assert_allclose(valid, [1.0, 25.0, 1.0], rtol=1e-15)


def test_valid_prediction_time_uses_per_coordinate_scales():
    true = np.zeros((1, 10, 2))
    pred = np.zeros((1, 10, 2))
    pred[0, 3:, 1] = 1.0  # jump at index 3 in the second coordinate
    scale = np.array([1.0, 100.0])
    # With scale 100 the jump is a normalised error of sqrt(0.5) * 0.01, below the threshold.
    assert valid_prediction_time(pred, true, scale=scale, dt=1.0, lyapunov_time=1.0)[0] == 10.0
    assert valid_prediction_time(pred, true, scale=1.0, dt=1.0, lyapunov_time=1.0)[0] == 3.0


def test_reconstruction_metrics_vanish_for_identical_series_and_penalise_blow_up():
    x = np.sin(np.linspace(0, 40, 800)).reshape(2, 400) + np.linspace(0, 0.1, 800).reshape(2, 400)
    d_stsp, d_h = reconstruction_metrics(x, x, dim=2, lag=5, n_bins=6, sigma=2.0)
    # Identical occupations and spectra: both distances are zero up to round-off.
    assert d_stsp == pytest.approx(0.0, abs=1e-12) and d_h == pytest.approx(0.0, abs=1e-7)
    blown = x.copy()
    blown[0, 200:] = np.inf
    # One of two pairs scores the largest distance, 1, the other 0: the mean is 1/2.
    assert reconstruction_metrics(blown, x, dim=2, lag=5, n_bins=6, sigma=2.0)[1] == pytest.approx(0.5)

