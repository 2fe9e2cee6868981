"""The chaos stage (claim `lyapunov-gradient`) at tiny size: sweeps, crossings, summary, claims."""

import math

import numpy as np
import pytest
import scipy.stats
import torch

from rnndyn.stages import chaos

CFG = {
    "g": [0.5, 2.5],
    "drive": [0.0, 0.1],
    "lyapunov": {"n_trajectories": 2, "n_transient": 300, "n_align": 50, "n_steps": 1000},
    "spectrum": {"g": [0.5, 2.5], "n_trajectories": 1, "n_transient": 300, "n_align": 50, "n_steps": 1000},
    "gradient": {"n_lags": 100, "min_lag": 25},
    "analysis": {"zero_exponent_tol": 0.005, "g_star_tol": 0.1, "fixed_point_margin": 0.95,
                 "fixed_point_tol": 0.002, "invariance_max_fraction": 0.5, "invariance_tol": 0.05,
                 "dky_fraction_bound": 0.3333},
}


@pytest.fixture(scope="module")
def sweeps():
    return [chaos.network_sweep(n, seed, CFG, base_seed=11) for n in (6, 8) for seed in (0, 1)]


def test_coupling_matrix_is_gaussian_with_variance_one_over_n():
    n = 200
    J = chaos.coupling_matrix(n, torch.Generator().manual_seed(0))
    assert J.shape == (n, n) and J.dtype == torch.float64
    # 40,000 entries: the sample variance of N(0, 1/n) has relative standard error sqrt(2/40000) = 0.7 %.
    assert J.var().item() * n == pytest.approx(1.0, rel=0.03)
    torch.testing.assert_close(J, chaos.coupling_matrix(n, torch.Generator().manual_seed(0)), rtol=0, atol=0)


def test_sweep_at_the_stable_origin_matches_the_linear_map(sweeps):
    # Undriven at g = 0.5 every trajectory falls onto h = 0, where the map is W = g J: its Lyapunov
    # spectrum is log |eig(W)|. The QR estimate of a linear map converges like 1/T (orientation of the
    # basis, rotation inside complex-pair planes): 1000 steps after a 50-step alignment leave ~1e-3.
    for sweep in sweeps:
        n = sweep.attrs["N"]
        J = chaos.coupling_matrix(n, chaos.torch_generator(11, "chaos", n, sweep.attrs["seed_index"], "coupling"))
        moduli = np.sort(np.log(np.abs(np.linalg.eigvals(0.5 * J.numpy()))))[::-1]
        at_origin = sweep.sel(drive=0.0)
        np.testing.assert_allclose(at_origin["lambda1"].sel(g=0.5), moduli[0], atol=2e-3)
        np.testing.assert_allclose(at_origin["spectrum"].sel(g_spectrum=0.5), moduli, atol=5e-3)
        assert at_origin["rho_w"].sel(g=0.5) == pytest.approx(np.exp(moduli[0]), rel=1e-12)
        # The gradient grows at lambda1 (brief: within max(5 %, 0.01)).
        lam = float(at_origin["lambda1"].sel(g=0.5).mean())
        assert abs(float(at_origin["gradient_rate"].sel(g=0.5)) - lam) <= max(0.05 * abs(lam), 0.01)
        assert at_origin["mean_slope"].sel(g=0.5) == pytest.approx(1.0, abs=1e-12)


def test_sweep_dims_and_determinism(sweeps):
    sweep = sweeps[0]
    assert dict(sweep.sizes) == {"g": 2, "drive": 2, "trajectory": 2, "window": 2 * (1050 // 100), "lag": 101,
                                 "g_spectrum": 2, "exponent": 6}
    for name in sweep.data_vars:
        assert {"units", "long_name"} <= set(sweep[name].attrs), name
    again = chaos.network_sweep(6, 0, CFG, base_seed=11)
    for name in sweep.data_vars:
        np.testing.assert_array_equal(again[name].values, sweep[name].values)


def test_first_upward_crossing_extrapolates_the_stable_branch():
    g = np.array([0.8, 0.9, 0.95, 1.0, 1.1, 1.5, 2.0])
    # Linear below g0 = 0.97, then a zero plateau (periodic window), then chaos.
    lam = np.where(g < 0.97, 2.0 * (g - 0.97), np.where(g < 1.5, 0.0, 0.2 * (g - 1.5)))
    assert chaos.first_upward_crossing(g, lam, tol=0.005) == pytest.approx(0.97, abs=1e-12)
    # With one point below, the chord of the bracket (here it ends on the plateau: g = 1.0); none: NaN.
    assert chaos.first_upward_crossing(g[2:], lam[2:], tol=0.005) == pytest.approx(1.0, abs=1e-12)
    assert math.isnan(chaos.first_upward_crossing(g, np.abs(lam) + 0.01, tol=0.005))
    # lam = 0.2 (g - 1.5) crosses 0.005 at g = 1.525; the interpolation between 1.5 and 2.0 is exact.
    assert chaos.chaos_onset(g, lam, tol=0.005) == pytest.approx(1.525, abs=1e-12)
    assert math.isnan(chaos.chaos_onset(g, -np.ones_like(g), tol=0.005))


def test_mean_interval_is_student_t():
    values = np.array([0.9, 1.0, 1.1, np.nan])
    mean, half = chaos.mean_interval(values)
    assert mean == pytest.approx(1.0)
    assert half == pytest.approx(scipy.stats.t.ppf(0.975, 2) * 0.1 / math.sqrt(3))


def test_spectrum_on_fractions_interpolates_at_midpoints():
    spectrum = np.array([[3.0, 2.0, 1.0, 0.0]])  # x_i = 0.125, 0.375, 0.625, 0.875
    np.testing.assert_allclose(chaos.spectrum_on_fractions(spectrum, np.array([0.125, 0.5, 0.875])),
                               [[3.0, 1.5, 0.0]])


def test_summary_and_claims(sweeps):
    summary = chaos.summarise(sweeps, CFG)
    assert summary.sizes["N"] == 2 and summary.sizes["seed"] == 2 and summary.sizes["fraction"] == 6
    for name in summary.data_vars:
        assert {"units", "long_name"} <= set(summary[name].attrs), name
    claims = {c.id: c for c in chaos.claims(summary)}
    assert {"lyapunov-gradient/g_star_N=8_drive=0", "lyapunov-gradient/gradient_rate_equals_lambda1_N=8",
            "lyapunov-gradient/size_invariance_drive=0.1", "lyapunov-gradient/dky_fraction_drive=0",
            "lyapunov-gradient/lambda1_at_stable_origin", "lyapunov-gradient/g_chaos_approaches_1_drive=0"} <= set(claims)
    # At the stable origin lambda1 = log(g rho(J)) (same 1/T error as above).
    assert claims["lyapunov-gradient/lambda1_at_stable_origin"].passed
