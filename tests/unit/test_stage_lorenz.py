"""The Lorenz stage's functions at tiny size: data splits, training phases, closed loop, claims, imports."""

from __future__ import annotations

import logging
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
import xarray as xr

from rnndyn.config import load_schema, validate_config
from rnndyn.models.parameters import model_parameters
from rnndyn.models.trained import load_network, network_identity
from rnndyn.seeding import Streams, derive_seed
from rnndyn.store import array_digest
from rnndyn.stages import lorenz, lorenz_analysis, lorenz_data, lorenz_reference, lorenz_training, lorenz_truth
from tests.conftest import SCHEMA

SEED = 11
TINY = {
    "data": {"n_train": 3, "n_val": 2, "train_steps": 400, "n_test": 5, "warmup_steps": 60, "horizon_steps": 100,
             "n_attractor": 2, "attractor_steps": 1200, "transient_steps": 300},
    "reference": {"n_trajectories": 4, "t_total": 2.0, "t_transient": 1.0},
    "training": {"archs": ["gru"], "hidden_sizes": [6], "replicates": 1, "phases": [
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


def training_settings(cfg: dict) -> dict:
    """What the training job gets: the phases, without the sweep lists."""
    return {key: value for key, value in cfg["training"].items() if key not in ("archs", "hidden_sizes", "replicates")}


def train(data: xr.Dataset, cfg: dict, checkpoints, hidden: int = 6, replicate: int = 0) -> xr.Dataset:
    return lorenz_training.train_network(data, "gru", hidden, replicate, cfg, Streams(SEED, "lorenz", "gru", hidden,
                                         replicate), device="cpu", checkpoint_dir=checkpoints,
                                         log=logging.getLogger("test"))


@pytest.fixture(scope="module")
def data(cfg) -> xr.Dataset:
    return lorenz_data.simulate_splits(cfg["data"], Streams(SEED, "lorenz"))


@pytest.fixture(scope="module")
def trained(cfg, data, tmp_path_factory):
    torch.set_num_threads(1)
    checkpoints = tmp_path_factory.mktemp("checkpoints")
    return train(data, training_settings(cfg), checkpoints), checkpoints


@pytest.fixture(scope="module")
def truth(cfg, data) -> xr.Dataset:
    return lorenz_truth.truth_analysis(data, cfg["analysis"], Streams(SEED, "lorenz").numpy("truth"))


def test_data_streams_keep_their_keys(cfg):
    streams = Streams(SEED, "lorenz")
    lorenz_data.simulate_splits(cfg["data"], streams)
    # The seeds of the old derive_seed(seed, "lorenz", "initial-states" | "observation-noise", split).
    assert streams.used == {f"{purpose}/{split}": derive_seed(SEED, "lorenz", purpose, split)
                            for purpose in ("initial-states", "observation-noise") for split in lorenz_data.SPLITS}


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
    noisy = lorenz_data.simulate_splits({**cfg["data"], "observation_noise": 0.1}, Streams(SEED, "lorenz"))
    residual = (noisy["x_train"] * noisy["x_std"] + noisy["x_mean"]) - noisy["state_train"].sel(component="x")
    clean_std = noisy["state_train"].sel(component="x").values.std()
    # 1,203 Gaussian draws: the sample standard deviation is within 3 / sqrt(2 * 1203) = 6 % of its value.
    assert float(residual.std()) == pytest.approx(0.1 * clean_std, rel=0.06)
    assert noisy["x_train"].values.std() == pytest.approx(1.0, rel=1e-12)


def test_prediction_windows_are_shifted_pairs():
    x = np.arange(30.0).reshape(2, 15)
    inputs, targets = lorenz_training.prediction_windows(x, 4, 5)
    # Windows start at 0, 5, 10 (the last needs 5 samples: 10..14) in each of the two series.
    assert inputs.shape == targets.shape == (6, 4, 1)
    torch.testing.assert_close(inputs[:, 1:], targets[:, :-1])
    assert inputs[1, 0, 0].item() == 5.0 and targets[3, -1, 0].item() == 19.0


def test_training_records_every_phase_and_round_trips(trained, cfg, data):
    ds, _ = trained
    assert ds.attrs["status"] == "completed" and ds.attrs["phase_modes"] == ["teacher", "rollout"]
    assert network_identity(ds) == {"stage": "lorenz", "arch": "gru", "hidden": 6, "replicate": 0}
    # Two teacher epochs then one rollout epoch, numbered 1..3 over the whole run.
    assert ds["phase"].values.tolist() == [0, 0, 1] and ds["epoch"].values.tolist() == [1, 2, 3]
    assert np.all(np.isfinite(ds["loss"].values))
    assert ds["seconds"].attrs["wall_clock"] == 1  # stored, and left out of the reproducibility digest
    # The stored float32 parameters rebuild the network exactly.
    parameters = model_parameters(load_network(ds, dtype=torch.float32))
    assert set(parameters.data_vars) <= set(ds.data_vars)
    for name in parameters.data_vars:
        np.testing.assert_array_equal(parameters[name].values, ds[name].values)


def test_training_is_reproducible_from_the_streams(trained, cfg, data):
    ds, _ = trained
    # Training again from the same streams, without checkpoints: the same store but for timings.
    assert array_digest(train(data, training_settings(cfg), None)) == array_digest(ds)


def test_training_streams_keep_their_keys(cfg, data):
    streams = Streams(SEED, "lorenz", "gru", 6, 0)
    lorenz_training.train_network(data, "gru", 6, 0, training_settings(cfg), streams, device="cpu",
                                  checkpoint_dir=None, log=logging.getLogger("test"))
    # The seeds of the old derive_seed(seed, "lorenz", arch, hidden, seed, purpose...).
    expected = {"init": ("init",), "input-noise/0": ("input-noise", 0), "batches/0": ("batches", 0),
                "batches/1": ("batches", 1)}
    assert streams.used == {key: derive_seed(SEED, "lorenz", "gru", 6, 0, *purpose)
                            for key, purpose in expected.items()}


def test_completed_checkpoints_resume_without_training(trained, cfg, data):
    ds, checkpoints = trained
    assert sorted(p.name for p in checkpoints.iterdir()) == ["phase0.pt", "phase1.pt"]
    ds_again = train(data, training_settings(cfg), checkpoints)
    xr.testing.assert_identical(ds_again.drop_attrs(), ds.drop_attrs())


def test_input_noise_is_refused_outside_teacher_mode(cfg, data):
    phases = [{**cfg["training"]["phases"][1], "input_noise": 0.1}]
    with pytest.raises(ValueError, match="input noise"):
        train(data, {"phases": phases}, None, hidden=4)


@pytest.mark.parametrize("arch, state_factor", [("gru", 1), ("lstm", 2)])
def test_closed_loop_shapes(arch, state_factor):
    model = lorenz_training.build_lorenz_model(arch, 5, torch.Generator().manual_seed(0)).double()
    predictions, states = lorenz_analysis.run_closed_loop(model, np.zeros((3, 7)), 11)
    assert predictions.shape == (3, 11) and states.shape == (3, 11, 5 * state_factor)
    # The first prediction is the read-out of the state after the warm-up.
    with torch.no_grad():
        first = model.readout(torch.from_numpy(states[:, 0]))[:, 0].numpy()
    np.testing.assert_array_equal(predictions[:, 0], first)


def test_best_order_prefers_completed_then_validation_vpt_then_loss():
    status = np.array(["completed", "diverged", "completed", "completed"])
    vpt = np.array([1.0, 9.0, 2.0, 2.0])
    loss = np.array([0.1, 0.1, 0.3, 0.2])
    assert lorenz.best_order(status, vpt, loss) == [3, 2, 0, 1]


def test_reference_claims_reach_the_literature_with_the_default_budget():
    result = lorenz_reference.reference_spectrum({"n_trajectories": 256, "t_total": 100.0, "t_transient": 20.0,
                                                  "dt": 0.01}, Streams(SEED, "lorenz").numpy("reference"))
    claims = {c.id: c for c in lorenz.reference_claims(result)}
    # The default budget, 25,600 averaged time units: standard errors of λ1 and λ3 about 0.19 and
    # 0.17 / sqrt(25,600) = 0.0012 and 0.0011 (lorenz_reference_spectrum's docstring), so the
    # tolerances (0.005, 0.005, 0.02) are 4 standard errors or more; the sum and D_KY are tighter still.
    assert set(claims) == {f"rnn-lyapunov/lorenz_reference_{q}"
                           for q in ("lambda1", "lambda2", "lambda3", "sum", "kaplan_yorke")}
    assert all(c.passed for c in claims.values()), [c for c in claims.values() if not c.passed]


def test_tiny_pipeline_gives_every_claim_a_finite_number(trained, cfg, data, truth):
    ds, _ = trained
    analysis = lorenz_analysis.analyse_network(load_network(ds), data, truth, cfg["analysis"],
                                               Streams(SEED, "lorenz", "gru", 6, 0).numpy("analysis"))
    assert analysis.sizes["exponent"] == 6 and analysis.sizes["test_trajectory"] == 5
    analysis = analysis.assign_attrs(identity=network_identity(ds))
    summary = lorenz.summarise([ds], [analysis])
    assert summary["model"].values.tolist() == ["gru_h6_rep0"]
    assert summary["hidden"].values.tolist() == [6] and summary["replicate"].values.tolist() == [0]
    claims = lorenz.network_claims(summary, truth)
    ids = {c.id for c in claims}
    assert {"rnn-lyapunov/best_lambda1", "takens/hidden_h1_dominant_bars", "takens/true_x_fnn_dim3",
            "dsr-metrics/gru_d_stsp_beats_linear", "dsr-metrics/gru_d_h_beats_linear"} <= ids
    # Tiny sizes may fail the claims, but every one carries a number or says why it has none.
    assert all(math.isfinite(c.measured) or c.note for c in claims)
    assert bool(summary["best"].values[0]) and bool(summary["best_of_arch"].values[0])


def test_summary_joins_networks_by_identity_not_position():
    def store(arch: str, replicate: int, vpt: float, loss: float, kind: str) -> xr.Dataset:
        identity = {"stage": "lorenz", "arch": arch, "hidden": 4, "replicate": replicate}
        if kind == "model":
            return xr.Dataset({"val_loss": ("epoch", [1.0, loss])}, attrs={"identity": identity, "status": "completed"})
        scalars = {name: ((), 0.0) for name in ("kaplan_yorke", "d_stsp", "d_h", "hidden_n_dominant_h1", "hidden_d2",
                                                 "generated_delay_d2", "generated_x_d2_nolds", "bottleneck_hidden_true",
                                                 "bottleneck_hidden_delay")}
        return xr.Dataset({"lyapunov_mean": ("exponent", [vpt, 0.0]), "vpt_test": ("test_trajectory", [vpt] * 3),
                           "vpt_val": ("val_window", [vpt] * 2), "generated_x_fnn": ("fnn_dim", [0.5, 0.0]), **scalars},
                          coords={"fnn_dim": [2, 3]}, attrs={"identity": identity})
    models = [store("gru", 0, 0, 0.2, "model"), store("gru", 1, 0, 0.1, "model"), store("lstm", 0, 0, 0.3, "model")]
    # Analyses in another order than the networks: each row still gets its own network's numbers.
    analyses = [store("lstm", 0, 3.0, 0, "analysis"), store("gru", 0, 1.0, 0, "analysis"),
                store("gru", 1, 2.0, 0, "analysis")]
    summary = lorenz.summarise(models, analyses)
    assert summary["model"].values.tolist() == ["gru_h4_rep0", "gru_h4_rep1", "lstm_h4_rep0"]
    np.testing.assert_array_equal(summary["vpt_val_median"].values, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(summary["final_val_loss"].values, [0.2, 0.1, 0.3])
    assert summary["best"].values.tolist() == [False, False, True]
    assert summary["best_of_arch"].values.tolist() == [False, True, True]
    with pytest.raises(ValueError, match="without an analysis"):
        lorenz.summarise(models, analyses[:2])


@pytest.mark.parametrize("module, forbidden", [
    ("rnndyn.stages.lorenz_data", ("torch", "seaborn", "matplotlib")),
    ("rnndyn.stages.lorenz_truth", ("torch", "seaborn")),
    ("rnndyn.stages.lorenz", ("torch", "seaborn", "matplotlib", "ripser", "persim")),
])
def test_light_jobs_import_neither_torch_nor_seaborn(module, forbidden):
    code = f"import sys, {module}; print(' '.join(m for m in {forbidden!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []
