"""The forward-Euler stage (claim `euler`): linear ODE systems, gradient sweep, Lorenz exponents, claims."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from rnndyn.analysis.euler import gradient_sweep, system_matrix
from rnndyn.jobs import run
from rnndyn.seeding import Streams, derive_seed
from rnndyn.stages import euler as stage
from rnndyn.store import read_dataset, read_provenance
from tests.unit.claim_labels import assert_labelled

GRID = {"dt_over_boundary": {"start": 0.5, "stop": 1.5, "num": 11}, "T_values": [20, 40, 60, 80], "n_bisect": 40}


@pytest.mark.parametrize("basis", ["orthogonal", "random"])
def test_system_matrix_has_the_prescribed_eigenvalues(basis):
    spec = {"real": [-1.0, -5.0], "complex": [[-0.5, 2.0]], "basis": basis}
    J = system_matrix(spec, np.random.default_rng(0))
    expected = np.sort_complex(np.array([-1.0, -5.0, -0.5 + 2j, -0.5 - 2j]))
    # Similarity by a (well-conditioned) random basis: eigenvalues to round-off times its condition.
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(J)), expected, atol=1e-10)
    assert (np.linalg.norm(J @ J.T - J.T @ J) < 1e-12) == (basis == "orthogonal")


def test_scalar_ode_rates_and_switch_are_exact():
    sweep = gradient_sweep(np.array([[-4.0]]), GRID)
    assert sweep["boundary"] == 0.5  # 2 / |lambda|
    finite = np.isfinite(sweep["rate_predicted"]) & np.isfinite(sweep["rate"])
    # ||dL/dh_0|| = |1 + dt lambda|^T exactly: the fitted slope is log|1 + dt lambda| to round-off.
    np.testing.assert_allclose(sweep["rate"][finite], sweep["rate_predicted"][finite], atol=1e-12)
    # 40 halvings of a bracket of 0.05 leave 5e-14 of width; the rate's round-off near 0 is ~1e-15.
    assert sweep["switch"] == pytest.approx(0.5, rel=1e-9)


def test_complex_pair_switches_on_the_circle():
    re, im = -1.0, 3.0
    J = system_matrix({"complex": [[re, im]], "basis": "orthogonal"}, np.random.default_rng(1))
    sweep = gradient_sweep(J, GRID)
    expected = -2 * re / (re**2 + im**2)
    assert sweep["boundary"] == pytest.approx(expected, rel=1e-12)
    # Normal J: the gradient norm is |1 + dt lambda|^T times a constant, so the switch is exact up
    # to the rate's round-off.
    assert sweep["switch"] == pytest.approx(expected, rel=1e-9)


def test_no_sign_change_gives_nan_switch():
    grid = {**GRID, "dt_over_boundary": {"start": 0.2, "stop": 0.8, "num": 4}}
    assert math.isnan(gradient_sweep(np.array([[-1.0]]), grid)["switch"])


def test_analyse_gradients_and_claims_per_system():
    cfg = {**GRID, "systems": {"scalar": {"real": [-2.0], "basis": "orthogonal"},
                               "pair": {"complex": [[-1.0, 1.0]], "basis": "orthogonal"}}}
    streams = Streams(5, "euler")
    ds = stage.analyse_gradients(cfg, streams)
    assert list(ds["system"].values) == ["scalar", "pair"]
    # One stream per system, keyed (stage, system): the seeds of derive_seed(seed, "euler", system).
    assert streams.used == {name: derive_seed(5, "euler", name) for name in ("scalar", "pair")}
    assert np.isnan(ds["eigenvalue_real"].sel(system="scalar").values[1])  # padding
    claims = {c.id: c for c in stage.claims(ds, [])}
    assert claims["euler/switch_dt_ratio/scalar"].passed
    assert claims["euler/switch_dt_ratio/scalar"].measured == pytest.approx(1.0, rel=1e-9)
    # Normal J: exact. (A non-normal J oscillates in norm; with T <= 80 its switch can be off by
    # more than 2 %, which is why the config fits T up to 800.)
    assert claims["euler/switch_dt_ratio/pair"].passed


def test_euler_map_exponent_exceeds_the_flow_at_a_coarse_step():
    cfg = {"n_trajectories": 16, "t_total": 20.0, "t_transient": 5.0}
    ds = stage.lorenz_lyapunov(np.random.default_rng(4), "euler", 0.02, cfg)
    lam = ds["lambda1"].values
    assert lam.shape == (16,) and np.all(np.isfinite(lam))
    # The Euler map's lambda_1 at dt = 0.02 is 1.45 (a long run of this engine); one trajectory
    # over 20 time units scatters by ~0.57 / sqrt(20) = 0.13, so the mean of 16 by 0.03: 5 sigma.
    assert lam.mean() == pytest.approx(1.45, abs=0.16)
    assert ds["integrator"].item() == "euler" and float(ds["dt"]) == 0.02


def test_rk4_map_exponent_is_the_reference_spectrum_leading_exponent():
    from rnndyn.systems.lorenz import lorenz_reference_spectrum

    cfg = {"n_trajectories": 8, "t_total": 5.0, "t_transient": 2.0}
    ds = stage.lorenz_lyapunov(np.random.default_rng(4), "rk4", 0.02, cfg)
    reference = lorenz_reference_spectrum(np.random.default_rng(4), n_trajectories=8, t_total=5.0, dt=0.02,
                                          t_transient=2.0)
    np.testing.assert_array_equal(ds["lambda1"].values, reference.exponents[:, 0])
    assert ds["integrator"].item() == "rk4"
    with pytest.raises(ValueError, match="integrator"):
        stage.lorenz_lyapunov(np.random.default_rng(4), "midpoint", 0.02, cfg)


def test_lorenz_job_draws_one_stream_keyed_by_integrator_and_step(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = "results/euler/lorenz_euler_dt0.02.zarr"
    snakemake = SimpleNamespace(
        rule="euler_lorenz", threads=1, log=["logs/euler/lorenz_euler_dt0.02.log"],
        params=SimpleNamespace(cfg={"n_trajectories": 4, "t_total": 2.0, "t_transient": 1.0}, seed=7),
        wildcards={"integrator": "euler", "dt": "0.02"}, input=[], output=[store])
    run(snakemake, stage.lorenz_job)
    seed = derive_seed(7, "euler", "euler", "0.02", "lyapunov")
    assert read_provenance(store)["randomness"]["streams"] == {"lyapunov": seed}
    expected = stage.lorenz_lyapunov(np.random.default_rng(seed), "euler", 0.02, snakemake.params.cfg)
    np.testing.assert_array_equal(read_dataset(store)["lambda1"].values, expected["lambda1"].values)


def _lorenz(integrator, dt, mean, std, n=400):
    # Values at mean +- std exactly (half each), so the batch mean and spread are known.
    lam = mean + std * np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    return xr.Dataset({"lambda1": (("trajectory",), lam)},
                      coords={"integrator": ((), integrator), "dt": ((), dt)}, attrs={"t_total": 10.0})


def test_lorenz_claims_use_three_standard_errors_of_the_difference_from_the_reference():
    gradients = stage.analyse_gradients({**GRID, "systems": {"s": {"real": [-1.0], "basis": "orthogonal"}}},
                                        Streams(0, "euler"))
    se = 0.2 / math.sqrt(400)  # std of the +-0.2 sample (ddof = 1 changes it by 0.1 %)
    tolerance = 3 * math.hypot(se, 6e-4)  # the reference's own standard error is <= 6e-4 (STUDY.md)
    runs = [_lorenz("euler", 0.02, 1.4505 + 3 * se, 0.2), _lorenz("euler", 0.01, 1.0421 + 4 * se, 0.2),
            _lorenz("rk4", 0.01, 0.9056, 0.2)]
    claims = {c.id: c for c in stage.claims(gradients, runs)}
    assert claims["euler/lorenz_lambda1_euler_dt=0.02"].passed  # 3 se off, within 3 hypot(se, 6e-4)
    assert not claims["euler/lorenz_lambda1_euler_dt=0.01"].passed  # 4 se off: beyond it
    assert claims["euler/lorenz_lambda1_rk4_dt=0.01"].passed
    assert claims["euler/lorenz_spurious_growth_dt=0.02"].passed
    assert claims["euler/lorenz_lambda1_euler_dt=0.02"].tolerance == pytest.approx(tolerance, rel=1e-2)
    assert claims["euler/lorenz_lambda1_euler_dt=0.02"].expected == 1.4505
    assert_labelled(list(claims.values()), "euler")
    assert {c.kind for c in claims.values()} == {"theory"}
    assert claims["euler/lorenz_spurious_growth_dt=0.02"].criterion == ">="
    assert claims["euler/lorenz_lambda1_euler_dt=0.02"].figure == "euler_lorenz_lambda1"
