"""The chaos stage (claim `lyapunov-gradient`) at tiny size: the random network, sweeps, summary, claims."""

import copy
import subprocess
import sys

import numpy as np
import pytest
import torch

from rnndyn.analysis.mean_field import activity_variance, lambda1_mean_field, level_crossing, onset_of_chaos
from rnndyn.analysis.statistics import finite_size_extrapolation, monotone_crossing
from rnndyn.config import ConfigError, load_schema, validate_config
from rnndyn.seeding import Streams, derive_seed
from rnndyn.stages import chaos
from rnndyn.stages.chaos_onset import onset_sweep
from rnndyn.stages.chaos_sweep import network_sweep
from rnndyn.systems.random_rnn import coupling_matrix, gaussian_weight, lambda1_on_gains
from tests.conftest import SCHEMA
from tests.unit.claim_labels import assert_labelled

SWEEP = {
    "g": [0.5, 2.5],
    "drive": [0.0, 0.1],
    "lyapunov": {"n_trajectories": 2, "n_transient": 300, "n_align": 50, "n_steps": 1000},
    "spectrum": {"g": [0.5, 2.5], "n_trajectories": 1, "n_transient": 300, "n_align": 50, "n_steps": 1000},
    "gradient": {"n_lags": 100, "min_lag": 25},
}
ANALYSIS = {"zero_exponent_tol": 0.005, "g_star_tol": 0.1, "fixed_point_margin": 0.95, "fixed_point_tol": 0.002,
            "invariance_max_fraction": 0.5, "invariance_tol": 0.05, "dky_fraction_bound": 0.3333,
            "onset_level": 0.01, "onset_size_exponent": 0.5, "n_bootstrap": 200}
ONSET = {"replicates": 3, "g": [0.5, 1.5, 2.5], "drive": [0.0, 0.1], "n_trajectories": 1, "n_transient": 200,
         "n_align": 50, "n_steps": 500, "dtype": "float64"}
BASE_SEED = 11


def _streams(n, replicate):
    """The streams of job chaos_sweep N{n}/rep{replicate} (the contract keys them by the wildcards)."""
    return Streams(BASE_SEED, "chaos", str(n), str(replicate))


@pytest.fixture(scope="module")
def sweeps():
    return [network_sweep(n, replicate, SWEEP, _streams(n, replicate)) for n in (6, 8) for replicate in (0, 1)]


def test_coupling_matrix_is_gaussian_with_variance_one_over_n():
    n = 200
    J = coupling_matrix(n, torch.Generator().manual_seed(0))
    assert J.shape == (n, n) and J.dtype == torch.float64
    # 40,000 entries: the sample variance of N(0, 1/n) has relative standard error sqrt(2/40000) = 0.7 %.
    assert J.var().item() * n == pytest.approx(1.0, rel=0.03)
    torch.testing.assert_close(J, coupling_matrix(n, torch.Generator().manual_seed(0)), rtol=0, atol=0)


def test_model_weight_is_the_same_draw_as_the_coupling():
    # The same N(0, 1) draw scaled by g / sqrt(n): exact where sqrt(n) is a power of 2, within an ulp elsewhere.
    for n, exact in ((16, True), (12, False)):
        J = coupling_matrix(n, torch.Generator().manual_seed(5))
        W = gaussian_weight(n, 1.5, torch.Generator().manual_seed(5))
        if exact:
            torch.testing.assert_close(W, 1.5 * J, rtol=0, atol=0)
        else:
            torch.testing.assert_close(W, 1.5 * J, rtol=2.5e-16, atol=0)


def test_sweep_streams_keep_the_old_seed_keys():
    # Before the job contract: derive_seed(base_seed, "chaos", n, seed, <part>, <purpose>).
    streams = _streams(8, 1)
    network_sweep(8, 1, SWEEP, streams)
    expected = {"coupling": ("coupling",), "lambda1/initial": ("lambda1", "initial"),
                "lambda1/transient drive": ("lambda1", "transient drive"), "lambda1/drive": ("lambda1", "drive"),
                "lambda1/basis": ("lambda1", "basis"), "spectrum/initial": ("spectrum", "initial"),
                "spectrum/drive": ("spectrum", "drive"), "spectrum/basis": ("spectrum", "basis")}
    assert streams.used == {name: derive_seed(BASE_SEED, "chaos", 8, 1, *keys) for name, keys in expected.items()}


def test_sweep_at_the_stable_origin_matches_the_linear_map(sweeps):
    # Undriven at g = 0.5 every trajectory falls onto h = 0, where the map is W = g J: its Lyapunov
    # spectrum is log |eig(W)|. The QR estimate of a linear map converges like 1/T (orientation of the
    # basis, rotation inside complex-pair planes): 1000 steps after a 50-step alignment leave ~1e-3.
    for sweep in sweeps:
        n, replicate = sweep.attrs["identity"]["n"], sweep.attrs["identity"]["replicate"]
        J = coupling_matrix(n, _streams(n, replicate).torch("coupling"))
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
    assert sweep.attrs["identity"] == {"stage": "chaos", "n": 6, "replicate": 0}
    again = network_sweep(6, 0, SWEEP, _streams(6, 0))
    for name in sweep.data_vars:
        np.testing.assert_array_equal(again[name].values, sweep[name].values)


def test_spectrum_on_fractions_interpolates_at_midpoints():
    spectrum = np.array([[3.0, 2.0, 1.0, 0.0]])  # x_i = 0.125, 0.375, 0.625, 0.875
    np.testing.assert_allclose(chaos.spectrum_on_fractions(spectrum, np.array([0.125, 0.5, 0.875])),
                               [[3.0, 1.5, 0.0]])


def test_summary_and_claims(sweeps):
    # The analysis places each sweep by its identity, not by its position in the list.
    summary = chaos.summarise(sweeps[::-1], ANALYSIS)
    assert summary.sizes["N"] == 2 and summary.sizes["replicate"] == 2 and summary.sizes["fraction"] == 6
    assert list(summary["N"].values) == [6, 8] and list(summary["replicate"].values) == [0, 1]
    assert float(summary["rho_J"].sel(N=8, replicate=1)) == sweeps[3].attrs["rho_J"]
    for name in summary.data_vars:
        assert {"units", "long_name"} <= set(summary[name].attrs), name
    claims = {c.id: c for c in chaos.claims(summary)}
    assert {"lyapunov-gradient/circular_law_N=8", "lyapunov-gradient/gradient_rate_equals_lambda1_N=8",
            "lyapunov-gradient/size_invariance_drive=0.1", "lyapunov-gradient/dky_fraction_drive=0",
            "lyapunov-gradient/lambda1_at_stable_origin"} <= set(claims)
    # At the stable origin lambda1 = log(g rho(J)) (same 1/T error as above).
    assert claims["lyapunov-gradient/lambda1_at_stable_origin"].passed
    assert_labelled(list(claims.values()), "chaos")
    assert claims["lyapunov-gradient/lambda1_at_stable_origin"].kind == "identity"
    assert claims["lyapunov-gradient/dky_fraction_drive=0"].criterion == "<="
    assert claims["lyapunov-gradient/size_invariance_drive=0.1"].figure == ""  # no figure shows driven spectra


def test_analysis_job_imports_neither_torch_nor_matplotlib():
    code = ("import sys, rnndyn.stages.chaos; "
            "assert not {'torch', 'matplotlib', 'seaborn'} & set(sys.modules), 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- onset of chaos ------------------------------------------------------------------------------

def test_mean_field_without_noise_has_its_onset_at_one():
    # sigma = 0: q = 0 solves the variance equation for g <= 1, so lambda_MF = ln g there (exact), and
    # the onset g^2 E sech^4 = 1 is g = 1 (a tangency: lambda_MF ~ (g - 1)^2 just above).
    assert onset_of_chaos(0.0) == pytest.approx(1.0, abs=1e-5)
    assert lambda1_mean_field(0.8, 0.0) == pytest.approx(np.log(0.8), abs=1e-12)
    assert activity_variance(0.9, 0.0) == 0.0
    assert 0 < lambda1_mean_field(1.1, 0.0) < 0.01 < lambda1_mean_field(1.5, 0.0)
    # The tangency's coefficient from the small-field expansion: lambda_MF = (2/3) eps^2 + O(eps^3).
    assert lambda1_mean_field(1.001, 0.0) / 1e-6 == pytest.approx(2 / 3, rel=0.01)
    # q solves its own equation: E tanh^2(sqrt(g^2 q + s^2) z) = q (Monte Carlo of 10^6 draws, SE ~ 3e-4).
    q = activity_variance(1.5, 0.1)
    z = np.random.default_rng(0).standard_normal(1_000_000)
    assert np.mean(np.tanh(np.sqrt(1.5**2 * q + 0.01) * z) ** 2) == pytest.approx(q, abs=2e-3)


def test_input_noise_moves_the_mean_field_onset_above_one():
    onset = onset_of_chaos(0.1)
    assert 1.15 < onset < 1.25
    assert lambda1_mean_field(onset, 0.1) == pytest.approx(0.0, abs=1e-9)
    assert onset_of_chaos(0.2) > onset
    assert lambda1_mean_field(level_crossing(0.1, 0.01), 0.1) == pytest.approx(0.01, abs=1e-9)


def test_onset_locator_finds_a_known_crossing_and_none_where_there_is_none():
    g = np.linspace(0.9, 1.6, 15)
    # Yes: a window at zero, then a linear branch through 0.01 at g = 1.3 exactly.
    curve = np.where(g < 1.2, 0.0, 0.1 * (g - 1.2))
    assert monotone_crossing(g, curve, 0.01) == pytest.approx(1.3, abs=1e-12)
    # A noisy dip of one point past the crossing (0.005 at g = 1.45) moves it by less than a grid step
    # (a last-crossing rule would put it at 1.45).
    dipped = curve.copy()
    dipped[11] = 0.005
    assert 1.3 <= monotone_crossing(g, dipped, 0.01) < 1.35
    # No: never chaotic on the grid (below the level everywhere), or above it from the first point.
    assert np.isnan(monotone_crossing(g, np.full(g.size, -0.01), 0.01))
    assert np.isnan(monotone_crossing(g, np.full(g.size, 0.05), 0.01))
    # The mean-field curve sampled on the grid: the interpolated crossing is its level crossing.
    lam = np.array([lambda1_mean_field(x, 0.1) for x in g])
    assert monotone_crossing(g, lam, 0.01) == pytest.approx(level_crossing(0.1, 0.01), abs=2e-3)


def test_finite_size_fit_recovers_a_known_limit():
    sizes = np.array([64, 128, 256, 512, 1024])
    exact = 1.2 + 0.8 * sizes[:, None] ** -0.5 + np.zeros((1, 8))
    fit = finite_size_extrapolation(sizes, exact, 0.5, rng=np.random.default_rng(0))
    assert fit["y_inf"] == pytest.approx(1.2, abs=1e-12) and fit["slope"] == pytest.approx(0.8, abs=1e-10)
    # Noisy replicates (spread ~ N^-1/4 as measured): the interval contains the limit and is narrow.
    noisy = exact + 0.05 * sizes[:, None] ** -0.25 * np.random.default_rng(1).standard_normal(exact.shape)
    fit = finite_size_extrapolation(sizes, noisy, 0.5, rng=np.random.default_rng(2))
    assert fit["low"] <= 1.2 <= fit["high"] and fit["high"] - fit["low"] < 0.05
    # A missing value (no onset on the grid) is left out, not propagated.
    noisy[0, 0] = np.nan
    assert np.isfinite(finite_size_extrapolation(sizes, noisy, 0.5, rng=np.random.default_rng(2))["y_inf"])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_lambda1_on_gains_matches_the_linear_map_at_the_stable_origin(dtype):
    # Undriven below 1/rho(J) every column falls onto h = 0, where lambda1 = log(g rho(J)) (QR of a
    # linear map: 1/T error, ~1e-3 after 1000 steps), in either precision.
    n = 8
    J = coupling_matrix(n, torch.Generator().manual_seed(3))
    cfg = {"n_transient": 300, "n_align": 50, "n_steps": 1000}
    lam = lambda1_on_gains(J, np.array([0.3, 0.5]), np.zeros(2), cfg, Streams(1, "test"), torch.device("cpu"), dtype)
    rho = np.abs(np.linalg.eigvals(J.numpy())).max()
    np.testing.assert_allclose(lam, np.log(np.array([0.3, 0.5]) * rho), atol=2e-3)


def test_lambda1_on_gains_float32_agrees_with_float64_in_the_chaotic_regime():
    # Same draws, different rounding: the trajectories part, the exponent does not. N = 64, g = 3:
    # lambda1 = 0.261 +- 0.001 over 20,000 steps and three noise streams (mean field: 0.31); estimates
    # over 2,000 steps differ by their sampling noise, < 0.01. (At g = 2 this network is barely
    # chaotic, lambda1 0.01-0.07 by stream, and the rounding of the CPU decides the sign of a margin.)
    J = coupling_matrix(64, torch.Generator().manual_seed(4))
    cfg = {"n_transient": 200, "n_align": 50, "n_steps": 2000}
    run = [lambda1_on_gains(J, np.array([3.0]), np.array([0.1]), cfg, Streams(1, "test"), torch.device("cpu"), dt)
           for dt in (torch.float64, torch.float32)]
    assert run[0][0] > 0.2
    assert run[1][0] == pytest.approx(run[0][0], abs=0.02)


def test_onset_sweep_and_claims():
    sweeps = [onset_sweep(n, ONSET, Streams(BASE_SEED, "chaos", str(n))) for n in (6, 8, 10)]
    assert dict(sweeps[0].sizes) == {"replicate": 3, "drive": 2, "g": 3}
    # Independent networks per replicate; the stable origin at g = 0.5 gives lambda1 < 0.
    lam = sweeps[0]["lambda1"].values
    assert np.all(lam[:, 0, 0] < 0) and len(set(np.round(lam[:, 0, 0], 9))) == 3
    onset = chaos.summarise_onset(sweeps[::-1], ANALYSIS, np.random.default_rng(0))
    assert list(onset["N"].values) == [6, 8, 10]
    assert float(onset["mean_field_onset"].sel(drive=0.0)) == pytest.approx(1.0, abs=1e-5)
    for name in onset.data_vars:
        assert {"units", "long_name"} <= set(onset[name].attrs), name
    claims = {c.id: c for c in chaos.onset_claims(onset)}
    assert {"lyapunov-gradient/onset_g_inf_drive=0", "lyapunov-gradient/onset_g_inf_drive=0.1",
            "lyapunov-gradient/onset_shift_drive=0.1",
            "lyapunov-gradient/onset_finite_size_drift_drive=0"} <= set(claims)
    assert_labelled(list(claims.values()), "chaos")
    g_inf = claims["lyapunov-gradient/onset_g_inf_drive=0"]
    low, high = float(onset["g_inf_low"].sel(drive=0.0)), float(onset["g_inf_high"].sel(drive=0.0))
    assert g_inf.passed == (low <= 1.0 <= high)


@pytest.mark.parametrize(("chaos_cfg", "message"), [
    ({"onset": {"replicates": 1}}, "'chaos.onset.replicates': 1 is less than the minimum of 2"),
    ({"onset": {"sizes": [64]}}, "'chaos.onset.sizes'"),
    ({"analysis": {"onset_level": 0}}, "'chaos.analysis.onset_level': 0 is less than or equal"),
    ({"onset": {"n_stpes": 5}}, "unknown key 'chaos.onset.n_stpes'"),
])
def test_bad_onset_config_names_its_key(chaos_cfg, message):
    with pytest.raises(ConfigError) as info:
        validate_config({"chaos": copy.deepcopy(chaos_cfg)}, load_schema(SCHEMA))
    assert message in str(info.value)
