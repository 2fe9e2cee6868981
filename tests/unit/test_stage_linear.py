"""The linear-RNN stage (claims `memory`, `linear-fixed-point`): sweep, analysis and claims."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from rnndyn.analysis.linear import impulse_response, memory_horizon, predicted_memory_horizon
from rnndyn.claims import read_claims
from rnndyn.jobs import run
from rnndyn.seeding import derive_seed
from rnndyn.stages import linear as stage
from rnndyn.store import read_dataset, read_provenance
from tests.unit.claim_labels import assert_labelled

CFG = {
    "rho": [0.5, 0.9, 1.0, 1.1], "n_matrices": 2, "n_hidden": 6, "coupling": 2.0, "n_inputs": 2,
    "n_unroll_steps": 50, "n_lags": 400, "tail_fraction": 0.5, "horizon_threshold": 0.01,
    "n_steps_constant_input": 600, "record_every": 50, "convergence_rtol": 1e-8,
}


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(3)
    sweep = stage.sweep_matrices(rng, CFG)
    return stage.analyse(sweep, rng, CFG).merge(sweep)


def _haar(rng, n):
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def test_sweep_has_the_requested_spectral_radii_and_kinds(result):
    for kind in stage.KINDS:
        for rho in CFG["rho"]:
            for W in result["W"].sel(kind=kind, rho=rho).values:
                # The Schur construction fixes rho exactly; eigvals adds round-off of order n eps ||W||.
                assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(rho, rel=1e-12)
                normal_defect = np.linalg.norm(W @ W.T - W.T @ W)
                assert (normal_defect < 1e-12) == (kind == "normal")
    np.testing.assert_allclose(np.linalg.norm(result["U"].values, axis=-1), 1.0, rtol=1e-14)


def test_dominant_amplitude_of_a_known_normal_matrix():
    rng = np.random.default_rng(0)
    Q = _haar(rng, 4)
    W = Q @ np.diag([0.9, -0.9, 0.3, 0.1]) @ Q.T
    U = 0.6 * Q[:, 0] + 0.8 * Q[:, 2]  # amplitude 0.6 on the modulus-0.9 eigenspace
    assert stage.dominant_amplitude(W, U, 0.9) == pytest.approx(0.6, rel=1e-12)


def test_horizon_of_a_scaled_orthogonal_matrix_is_the_prediction():
    # rho O: ||W^k U|| = rho^k exactly and the dominant amplitude is 1, so both bounds coincide.
    rng = np.random.default_rng(1)
    rho, threshold = 0.8, 0.01
    W = rho * _haar(rng, 5)
    U = rng.standard_normal(5)
    horizon = memory_horizon(impulse_response(W, U, 100), threshold)
    assert stage.dominant_amplitude(W, U, rho) == pytest.approx(1.0, rel=1e-12)
    assert stage.horizon_lower_bound(rho, threshold, 1.0) == pytest.approx(predicted_memory_horizon(rho, threshold))
    assert horizon == math.ceil(predicted_memory_horizon(rho, threshold))


def test_unroll_errors_are_round_off():
    rng = np.random.default_rng(2)
    W = np.stack([0.95 * _haar(rng, 5), 1.05 * _haar(rng, 5)])
    errors = stage.unroll_errors(rng, W, n_inputs=2, n_steps=100)
    assert errors.shape == (2,)
    # T n eps = 100 * 5 * 2.2e-16 ~ 1e-13: the claim's tolerance.
    assert np.all(errors < 100 * 5 * np.finfo(float).eps)


def test_convergence_is_decided_by_the_spectral_radius(result):
    converged = result["converged"]
    np.testing.assert_array_equal(converged.values, np.broadcast_to((result["rho"] < 1).values[None, :, None],
                                                                    converged.shape))
    # The solved fixed point satisfies h* = W h* + U u to round-off (W well conditioned away from 1).
    assert float(result["fixed_point_residual"].max()) < 1e-12


def test_every_claim_passes_on_a_small_sweep(result):
    claims = stage.claims(result)
    assert {c.id.split("/")[0] for c in claims} == {"memory", "linear-fixed-point"}
    failed = [(c.id, c.measured, c.tolerance) for c in claims if not c.passed]
    assert not failed


def test_every_claim_says_its_kind_rule_and_figure(result):
    claims = stage.claims(result)
    assert_labelled(claims, "linear")
    by_id = {c.id: c for c in claims}
    assert by_id["memory/unroll_max_rel_error"].kind == "identity"
    assert by_id["memory/peak_amplification_normal"].kind == "identity"
    assert by_id["memory/transient_growth_nonnormal"].criterion == ">"
    assert by_id["linear-fixed-point/converged_rho_below_1"].criterion == "="


def test_claims_fail_when_the_decay_rate_is_off(result):
    corrupted = result.copy()
    corrupted["decay_rate"] = result["decay_rate"] + 2 * stage.DECAY_RATE_TOL
    by_id = {c.id: c for c in stage.claims(corrupted)}
    assert not by_id["memory/decay_rate_max_error_normal"].passed
    wrong = result.copy()
    wrong["converged"] = ~result["converged"]
    by_id = {c.id: c for c in stage.claims(wrong)}
    assert not by_id["linear-fixed-point/converged_rho_below_1"].passed
    assert by_id["linear-fixed-point/diverged_rho_at_or_above_1"].measured == 0.0


class _Files(list):
    """Snakemake's output: a list whose entries also have names."""

    def __init__(self, **named: str) -> None:
        super().__init__(named.values())
        self.__dict__.update(named)


def test_analysis_job_draws_the_stage_stream(tmp_path, monkeypatch):
    # One stream with no purpose: the seed derive_seed(seed, "linear") of the stage itself.
    monkeypatch.chdir(tmp_path)
    cfg = {**CFG, "rho": [0.5, 1.1], "n_matrices": 1, "n_lags": 40, "n_steps_constant_input": 100}
    output = _Files(sweep="results/linear/sweep.zarr", claims="results/claims/linear.json")
    snakemake = SimpleNamespace(rule="linear_analysis", threads=1, log=["logs/linear/analysis.log"],
                                params=SimpleNamespace(cfg=cfg, seed=11), wildcards={}, input=[],
                                output=output)
    run(snakemake, stage.analysis_job)
    rng = np.random.default_rng(derive_seed(11, "linear"))
    sweep = stage.sweep_matrices(rng, cfg)
    np.testing.assert_array_equal(read_dataset(output.sweep)["W"].values, sweep["W"].values)
    assert read_provenance(output.sweep)["randomness"]["streams"] == {"": derive_seed(11, "linear")}
    assert [c.id for c in read_claims(output.claims)] == [c.id for c in stage.claims(
        stage.analyse(sweep, rng, cfg).merge(sweep))]
