"""The Lorenz stage's functions at tiny size: data splits, training phases, closed loop, claims."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import torch
import xarray as xr

from rnndyn.config import load_schema, validate_config
from rnndyn.seeding import numpy_generator
from rnndyn.stages import lorenz, lorenz_analysis, lorenz_data, lorenz_takens, lorenz_training
from tests.conftest import SCHEMA

SEED = 11
TINY = {
    "data": {"n_train": 3, "n_val": 2, "train_steps": 400, "n_test": 5, "warmup_steps": 60, "horizon_steps": 100,
             "n_attractor": 2, "attractor_steps": 1200, "transient_steps": 300},
    "reference": {"n_trajectories": 4, "t_total": 2.0, "t_transient": 1.0},
    "training": {"architectures": ["gru"], "hidden_sizes": [6], "seeds": [0], "phases": [
        {"sequence_length": 50, "stride": 50, "input_noise": 0.05, "mode": "teacher", "epochs": 2, "lr": 0.01},
        {"sequence_length": 40, "stride": 80, "mode": "rollout", "rollout_horizon": 8, "epochs": 1},
    ]},
    "analysis": {"plot_steps": 100, "lyapunov": {"n_trajectories": 2, "n_steps": 60, "n_transient": 20},
                 "takens": {"cloud_stride": 4, "n_landmarks": 60, "ami_max_lag": 30, "fnn_trajectories": 1,
                            "nolds_points": 300}},
}


@pytest.fixture(scope="module")
def cfg() -> dict:
    """The tiny section with every default filled in by the schema, as the workflow sees it."""
    config = {"stages": ["lorenz"], "lorenz": {key: dict(value) for key, value in TINY.items()}}
    return validate_config(config, load_schema(SCHEMA))["lorenz"]


@pytest.fixture(scope="module")
def data(cfg) -> xr.Dataset:
    return lorenz_data.simulate_splits(cfg["data"], SEED)


@pytest.fixture(scope="module")
def trained(cfg, data, tmp_path_factory):
    torch.set_num_threads(1)
    checkpoints = tmp_path_factory.mktemp("checkpoints")
    model, ds = lorenz_training.train_lorenz(data, arch="gru", hidden=6, seed=0, cfg=cfg["training"],
                                             base_seed=SEED, device="cpu", checkpoint_dir=checkpoints,
                                             log=logging.getLogger("test"))
    return model, ds, checkpoints


@pytest.fixture(scope="module")
def truth(cfg, data) -> xr.Dataset:
    return lorenz_analysis.truth_analysis(data, cfg["analysis"], numpy_generator(SEED, "truth"))


def test_splits_start_from_distinct_initial_conditions(data):
    firsts = np.concatenate([data[f"state_{s}"].values[:, 0] for s in lorenz_data.SPLITS])
    # Distinct streams draw distinct continuous values: no initial state appears twice.
    assert np.unique(firsts, axis=0).shape[0] == firsts.shape[0]


def test_observable_is_standardised_with_training_statistics(data):
    x_train = data["state_train"].sel(component="x").values
    # Round-off of a mean and a standard deviation of 1,203 values: ~1e-15 relative.
    assert float(data["x_mean"]) == pytest.approx(x_train.mean(), abs=1e-12)
    assert float(data["x_std"]) == pytest.approx(x_train.std(), rel=1e-12)
    assert data["x_train"].values.mean() == pytest.approx(0.0, abs=1e-12)
    assert data["x_train"].values.std() == pytest.approx(1.0, rel=1e-12)
    for split in ("val", "test", "attractor"):
        # Without noise the observable is the clean x, scaled with the training split's numbers.
        np.testing.assert_allclose(data[f"x_{split}"].values, lorenz_data.true_x(data, split), rtol=0, atol=1e-12)
        # ... and not with its own: another split's mean is not exactly zero.
        assert abs(data[f"x_{split}"].values.mean()) > 1e-6


def test_observation_noise_has_the_configured_size(cfg):
    noisy = lorenz_data.simulate_splits({**cfg["data"], "observation_noise": 0.1}, SEED)
    residual = (noisy["x_train"] * noisy["x_std"] + noisy["x_mean"]) - noisy["state_train"].sel(component="x")
    clean_std = noisy["state_train"].sel(component="x").values.std()
    # 1,203 Gaussian draws: the sample standard deviation is within 3 / sqrt(2 * 1203) = 6 % of its value.
    assert float(residual.std()) == pytest.approx(0.1 * clean_std, rel=0.06)
    assert noisy["x_train"].values.std() == pytest.approx(1.0, rel=1e-12)


def test_prediction_windows_are_shifted_pairs():
    x = np.arange(30.0).reshape(2, 15)
    inputs, targets = lorenz_data.prediction_windows(x, 4, 5)
    # Windows start at 0, 5, 10 (the last needs 5 samples: 10..14) in each of the two series.
    assert inputs.shape == targets.shape == (6, 4, 1)
    torch.testing.assert_close(inputs[:, 1:], targets[:, :-1])
    assert inputs[1, 0, 0].item() == 5.0 and targets[3, -1, 0].item() == 19.0


def test_training_records_every_phase_and_round_trips(trained):
    model, ds, _ = trained
    assert ds.attrs["status"] == "completed" and ds.attrs["phase_modes"] == ["teacher", "rollout"]
    # Two teacher epochs then one rollout epoch, numbered 1..3 over the whole run.
    assert ds["phase"].values.tolist() == [0, 0, 1] and ds["epoch"].values.tolist() == [1, 2, 3]
    assert np.all(np.isfinite(ds["loss"].values))
    assert ds["seconds"].attrs["wall_clock"] == 1  # stored, and left out of the reproducibility digest
    reloaded = lorenz_training.load_lorenz_model(ds, dtype=torch.float32)
    x = torch.linspace(-1, 1, 40).reshape(2, 20, 1)
    # The stored float32 parameters are the trained ones, bit for bit.
    torch.testing.assert_close(reloaded(x)[0], model.eval()(x)[0], rtol=0, atol=0)


def test_completed_checkpoints_resume_without_training(trained, cfg, data):
    model, ds, checkpoints = trained
    assert sorted(p.name for p in checkpoints.iterdir()) == ["gru_h6_s0.phase0.pt", "gru_h6_s0.phase1.pt"]
    again, ds_again = lorenz_training.train_lorenz(data, arch="gru", hidden=6, seed=0, cfg=cfg["training"],
                                                   base_seed=SEED, device="cpu", checkpoint_dir=checkpoints,
                                                   log=logging.getLogger("test"))
    xr.testing.assert_identical(ds_again.drop_attrs(), ds.drop_attrs())


def test_input_noise_is_refused_outside_teacher_mode(cfg, data):
    phases = [{**cfg["training"]["phases"][1], "input_noise": 0.1}]
    with pytest.raises(ValueError, match="input noise"):
        lorenz_training.train_lorenz(data, arch="gru", hidden=4, seed=0, cfg={**cfg["training"], "phases": phases},
                                     base_seed=SEED, device="cpu", checkpoint_dir=None, log=logging.getLogger("test"))


@pytest.mark.parametrize("arch, state_factor", [("gru", 1), ("lstm", 2)])
def test_closed_loop_shapes(arch, state_factor):
    model = lorenz_training.build_lorenz_model(arch, 5, torch.Generator().manual_seed(0)).double()
    predictions, states = lorenz_analysis.run_closed_loop(model, np.zeros((3, 7)), 11)
    assert predictions.shape == (3, 11) and states.shape == (3, 11, 5 * state_factor)
    # The first prediction is the read-out of the state after the warm-up.
    with torch.no_grad():
        first = model.readout(torch.from_numpy(states[:, 0]))[:, 0].numpy()
    np.testing.assert_array_equal(predictions[:, 0], first)


def test_dsr_metrics_vanish_for_identical_series_and_penalise_blow_up():
    x = np.sin(np.linspace(0, 40, 800)).reshape(2, 400) + np.linspace(0, 0.1, 800).reshape(2, 400)
    d_stsp, d_h = lorenz_analysis.dsr_metrics(x, x, dim=2, lag=5, n_bins=6, sigma=2.0)
    # Identical occupations and spectra: both distances are zero up to round-off.
    assert d_stsp == pytest.approx(0.0, abs=1e-12) and d_h == pytest.approx(0.0, abs=1e-7)
    blown = x.copy()
    blown[0, 200:] = np.inf
    assert lorenz_analysis.dsr_metrics(blown, x, dim=2, lag=5, n_bins=6, sigma=2.0)[1] == pytest.approx(0.5)


def test_normalised_cloud_has_unit_radius_and_ignores_rotation():
    rng = np.random.default_rng(0)
    points = rng.standard_normal((200, 3)) * [5.0, 1.0, 0.2] + 7.0
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    a, b = lorenz_takens.normalise_cloud(points), lorenz_takens.normalise_cloud(points @ q.T)
    assert np.mean(np.sum(a**2, axis=1)) == pytest.approx(1.0, rel=1e-12)
    # Pairwise distances are what persistent homology sees: rotation changes none of them.
    dist = lambda p: np.linalg.norm(p[:, None] - p[None], axis=-1)  # noqa: E731
    np.testing.assert_allclose(dist(a), dist(b), atol=1e-12)
    assert np.all(lorenz_takens.normalise_cloud(np.ones((10, 4))) == 0.0)


def test_density_filter_drops_isolated_points():
    rng = np.random.default_rng(1)
    cluster = rng.standard_normal((95, 2)) * 0.1
    outliers = np.array([[5.0, 5.0], [-5.0, 4.0], [6.0, -3.0], [-4.0, -6.0], [0.0, 8.0]])
    kept = lorenz_takens.densest(np.vstack([cluster, outliers]), neighbours=3, keep=0.95)
    assert kept.shape == (95, 2) and np.all(np.abs(kept) < 1.0)


def test_best_order_prefers_completed_then_validation_vpt_then_loss():
    status = np.array(["completed", "diverged", "completed", "completed"])
    vpt = np.array([1.0, 9.0, 2.0, 2.0])
    loss = np.array([0.1, 0.1, 0.3, 0.2])
    assert lorenz.best_order(status, vpt, loss) == [3, 2, 0, 1]


def test_reference_claims_reach_the_literature_with_the_default_budget():
    result = lorenz.reference_spectrum({"n_trajectories": 256, "t_total": 100.0, "t_transient": 20.0}, 0.01,
                                       numpy_generator(SEED, "reference"))
    claims = {c.id: c for c in lorenz.reference_claims(result)}
    # The default budget, 25,600 averaged time units: standard errors of λ1 and λ3 about 0.19 and
    # 0.17 / sqrt(25,600) = 0.0012 and 0.0011 (lorenz_reference_spectrum's docstring), so the
    # tolerances (0.005, 0.005, 0.02) are 4 standard errors or more; the sum and D_KY are tighter still.
    assert set(claims) == {f"rnn-lyapunov/lorenz_reference_{q}"
                           for q in ("lambda1", "lambda2", "lambda3", "sum", "kaplan_yorke")}
    assert all(c.passed for c in claims.values()), [c for c in claims.values() if not c.passed]


def test_tiny_pipeline_gives_every_claim_a_finite_number(trained, cfg, data, truth):
    model, ds, _ = trained
    analysis = lorenz_analysis.analyse_model(lorenz_training.load_lorenz_model(ds), data, truth, cfg["analysis"],
                                             numpy_generator(SEED, "analysis"))
    assert analysis.sizes["exponent"] == 6 and analysis.sizes["test_trajectory"] == 5
    summary = lorenz.summarise(["gru_h6_s0"], [ds], [analysis])
    claims = lorenz.network_claims(summary, truth)
    ids = {c.id for c in claims}
    assert {"rnn-lyapunov/best_lambda1", "takens/hidden_h1_dominant_bars", "takens/true_x_fnn_dim3",
            "dsr-metrics/gru_d_stsp_beats_linear", "dsr-metrics/gru_d_h_beats_linear"} <= ids
    # Tiny sizes may fail the claims, but every one carries a number or says why it has none.
    assert all(math.isfinite(c.measured) or c.note for c in claims)
    assert bool(summary["best"].values[0]) and bool(summary["best_of_arch"].values[0])
