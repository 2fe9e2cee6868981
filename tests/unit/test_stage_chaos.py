"""The chaos stage (claim `lyapunov-gradient`) at tiny size: the random network, sweeps, summary, claims."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from rnndyn.seeding import Streams, derive_seed
from rnndyn.stages import chaos
from rnndyn.stages.chaos_sweep import network_sweep
from rnndyn.systems.random_rnn import coupling_matrix, gaussian_weight
from tests.unit.claim_labels import assert_labelled

SWEEP = {
    "g": [0.5, 2.5],
    "drive": [0.0, 0.1],
    "lyapunov": {"n_trajectories": 2, "n_transient": 300, "n_align": 50, "n_steps": 1000},
    "spectrum": {"g": [0.5, 2.5], "n_trajectories": 1, "n_transient": 300, "n_align": 50, "n_steps": 1000},
    "gradient": {"n_lags": 100, "min_lag": 25},
}
ANALYSIS = {"zero_exponent_tol": 0.005, "g_star_tol": 0.1, "fixed_point_margin": 0.95, "fixed_point_tol": 0.002,
            "invariance_max_fraction": 0.5, "invariance_tol": 0.05, "dky_fraction_bound": 0.3333}
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
    assert {"lyapunov-gradient/g_star_N=8_drive=0", "lyapunov-gradient/gradient_rate_equals_lambda1_N=8",
            "lyapunov-gradient/size_invariance_drive=0.1", "lyapunov-gradient/dky_fraction_drive=0",
            "lyapunov-gradient/lambda1_at_stable_origin", "lyapunov-gradient/g_chaos_approaches_1_drive=0"} <= set(claims)
    # At the stable origin lambda1 = log(g rho(J)) (same 1/T error as above).
    assert claims["lyapunov-gradient/lambda1_at_stable_origin"].passed
    assert_labelled(list(claims.values()), "chaos")
    assert claims["lyapunov-gradient/lambda1_at_stable_origin"].kind == "identity"
    assert claims["lyapunov-gradient/g_chaos_approaches_1_drive=0"].criterion == "trend"
    assert claims["lyapunov-gradient/dky_fraction_drive=0"].criterion == "<="
    assert claims["lyapunov-gradient/size_invariance_drive=0.1"].figure == ""  # no figure shows driven spectra


def test_analysis_job_imports_neither_torch_nor_matplotlib():
    code = ("import sys, rnndyn.stages.chaos; "
            "assert not {'torch', 'matplotlib', 'seaborn'} & set(sys.modules), 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)
