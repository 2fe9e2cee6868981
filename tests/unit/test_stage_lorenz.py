"""The Lorenz stage's functions at tiny size: data splits, training phases, closed loop, claims, imports."""

from __future__ import annotations

import copy
import logging
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
import xarray as xr

from rnndyn.config import ConfigError, load_schema, validate_config
from rnndyn.models.parameters import model_parameters
from rnndyn.models.trained import load_network, network_identity
from rnndyn.seeding import Streams, derive_seed
from rnndyn.store import array_digest
from rnndyn.stages import lorenz, lorenz_analysis, lorenz_data, lorenz_reference, lorenz_training, lorenz_truth
from tests.conftest import SCHEMA

SEED = 11
TINY = {
    "data": {"n_train": 3, "n_val": 2, "train_steps": 400, "n_test": 5, "warmup_steps": 60, "horizon_steps": 100,
             "n_attractor": 2, "attractor_steps": 1200, "transient_steps": 300,
             "n_drive": 2, "drive_steps": 80},
    "reference": {"n_trajectories": 4, "t_total": 2.0, "t_transient": 1.0},
    "settings": ["scalar", "full"],
    "training": {"replicates": 1, "archs": {
        "gru": {"hidden_sizes": [6], "phases": [
            {"sequence_length": 50, "stride": 50, "input_noise": 0.05, "mode": "teacher", "epochs": 2, "lr": 0.01},
            {"sequence_length": 40, "stride": 80, "mode": "rollout", "rollout_horizon": 8, "epochs": 1},
        ]},
        "shplrnn": {"hidden_sizes": [4], "options": {"hidden_width": 8}, "phases": [
            {"sequence_length": 40, "stride": 80, "mode": "gtf", "epochs": 1, "lr": 0.003},
        ]},
    }},
    "analysis": {"plot_steps": 100, "lyapunov": {"n_trajectories": 2, "n_steps": 60, "n_transient": 20},
                 "takens": {"cloud_stride": 4, "n_landmarks": 60, "ami_max_lag": 30, "fnn_trajectories": 1,
                            "nolds_points": 300}},
}


@pytest.fixture(scope="module")
def cfg() -> dict:
    """The tiny section with every default filled in by the schema, as the workflow sees it."""
    config = {"stages": ["lorenz"], "lorenz": copy.deepcopy(TINY)}
    return validate_config(config, load_schema(SCHEMA))["lorenz"]


def training_settings(cfg: dict, arch: str = "gru") -> dict:
    """What the training job gets: its architecture's recipe without the sweep list."""
    return {key: value for key, value in cfg["training"]["archs"][arch].items() if key != "hidden_sizes"}


def train(data: xr.Dataset, cfg: dict, checkpoints, hidden: int = 6, replicate: int = 0, arch: str = "gru",
          setting: str = "scalar") -> xr.Dataset:
    return lorenz_training.train_network(data, arch, hidden, replicate, cfg,
                                         Streams(SEED, "lorenz", setting, arch, hidden, replicate), device="cpu",
                                         checkpoint_dir=checkpoints, log=logging.getLogger("test"), setting=setting)


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
    return lorenz_truth.truth_analysis(data, cfg["analysis"], Streams(SEED, "lorenz").numpy("truth"),
                                      Streams(SEED, "lorenz").numpy("null"))


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


def test_full_observations_are_standardised_per_component_with_training_statistics(data):
    u = data["u_train"].values
    np.testing.assert_allclose(u.mean(axis=(0, 1)), 0.0, atol=1e-10)
    np.testing.assert_allclose(u.std(axis=(0, 1)), 1.0, rtol=1e-10)
    # Without noise the full observation is the clean state; its x is the scalar setting's x.
    np.testing.assert_allclose(lorenz_data.observed(data, "attractor", "full"),
                               lorenz_data.clean(data, "attractor", "full"), atol=1e-12)
    np.testing.assert_allclose(data["u_test"].values[..., 0], data["x_test"].values, atol=1e-12)
    assert lorenz_data.observed(data, "val", "scalar").shape == (*data["x_val"].shape, 1)


def test_prediction_windows_of_three_components_keep_components_together():
    x = np.arange(90.0).reshape(2, 15, 3)
    inputs, targets = lorenz_training.prediction_windows(x, 4, 5)
    assert inputs.shape == targets.shape == (6, 4, 3)
    torch.testing.assert_close(inputs[:, 1:], targets[:, :-1])
    # The second window of the first series starts at step 5: (15, 16, 17).
    assert inputs[1, 0].tolist() == [15.0, 16.0, 17.0] and targets[3, -1].tolist() == [57.0, 58.0, 59.0]


def test_full_setting_trains_and_analyses_a_shplrnn_with_gtf(cfg, data, truth):
    ds = train(data, training_settings(cfg, "shplrnn"), None, hidden=4, arch="shplrnn", setting="full")
    assert ds.attrs["build"] == {"arch": "shplrnn", "input_size": 3, "hidden_size": 4, "output_size": 3,
                                 "hidden_width": 8}
    assert ds.attrs["phase_modes"] == ["gtf"] and np.all(np.isfinite(ds["gtf_alpha"].values))
    assert network_identity(ds)["setting"] == "full"
    analysis = lorenz_analysis.analyse_network(load_network(ds), data, truth, cfg["analysis"],
                                               Streams(SEED, "x").numpy("analysis"), setting="full")
    for name in ("d_stsp_mikhaeil2022", "d_h_mikhaeil2022", "d_stsp_hess2023", "d_h_hess2023"):
        assert "settings" in analysis[name].attrs and np.isfinite(float(analysis[name])), name
    summary = lorenz.summarise([ds], [analysis.assign_attrs(identity=network_identity(ds))])
    claims = {c.id: c for c in lorenz.network_claims(summary, truth)}
    assert {"rnn-lyapunov/full_shplrnn_h4_lambda1", "rnn-lyapunov/full_shplrnn_h4_lambda1_vs_vlachas_gru40",
            "rnn-lyapunov/full_best_lambda3", "dsr-metrics/full_shplrnn_h4_d_stsp_hess2023",
            "takens/full_shplrnn_h4_generated_d2", "takens/full_shplrnn_h4_generated_h1_dominant_bars"} <= set(claims)
    assert claims["rnn-lyapunov/full_shplrnn_h4_lambda1"].tolerance == pytest.approx(0.02 * 0.9056)
    assert "mikhaeil2022" in claims["dsr-metrics/full_shplrnn_h4_d_stsp_mikhaeil2022"].note
    assert claims["rnn-lyapunov/full_shplrnn_h4_lambda2_vs_vlachas_gru40"].tolerance == pytest.approx(0.0043)


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
    assert network_identity(ds) == {"stage": "lorenz", "setting": "scalar", "arch": "gru", "hidden": 6, "replicate": 0}
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


def test_training_streams_are_keyed_by_the_output_path(cfg, data):
    streams = Streams(SEED, "lorenz", "scalar", "gru", 6, 0)
    lorenz_training.train_network(data, "gru", 6, 0, training_settings(cfg), streams, device="cpu",
                                  checkpoint_dir=None, log=logging.getLogger("test"))
    # (stage, setting, arch, hidden, replicate, purpose...): the wildcards in the output path's order
    # (the setting wildcard changed every Lorenz network's numbers against the old (arch, hidden, seed) keys).
    expected = {"init": ("init",), "input-noise/0": ("input-noise", 0), "batches/0": ("batches", 0),
                "batches/1": ("batches", 1)}
    assert streams.used == {key: derive_seed(SEED, "lorenz", "scalar", "gru", 6, 0, *purpose)
                            for key, purpose in expected.items()}


def test_completed_checkpoints_resume_without_training(trained, cfg, data):
    ds, checkpoints = trained
    assert sorted(p.name for p in checkpoints.iterdir()) == ["phase0.pt", "phase1.pt"]
    ds_again = train(data, training_settings(cfg), checkpoints)
    xr.testing.assert_identical(ds_again.drop_attrs(), ds.drop_attrs())


def test_input_noise_is_refused_outside_teacher_mode(cfg, data):
    phases = [{**cfg["training"]["archs"]["gru"]["phases"][1], "input_noise": 0.1}]
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
                                               Streams(SEED, "lorenz", "scalar", "gru", 6, 0).numpy("analysis"))
    assert analysis.sizes["exponent"] == 6 and analysis.sizes["test_trajectory"] == 5
    analysis = analysis.assign_attrs(identity=network_identity(ds))
    summary = lorenz.summarise([ds], [analysis])
    assert summary["model"].values.tolist() == ["scalar_gru_h6_rep0"]
    assert summary["hidden"].values.tolist() == [6] and summary["replicate"].values.tolist() == [0]
    claims = lorenz.network_claims(summary, truth)
    ids = {c.id for c in claims}
    assert {"rnn-lyapunov/scalar_best_lambda1", "rnn-lyapunov/scalar_gru_h6_lambda3", "takens/scalar_gru_h6_hidden_d2",
            "takens/hidden_h1_dominant_bars", "takens/true_x_fnn_dim3",
            "dsr-metrics/scalar_gru_h6_d_stsp_beats_null", "dsr-metrics/scalar_gru_h6_d_h_beats_null",
            "takens/scalar_gru_h6_hidden_h1_dominant_bars", "takens/scalar_gru_h6_generated_x_fnn_dim3",
            "takens/scalar_gru_h6_generated_d2_agrees_nolds", "takens/delay_d2_agrees_nolds"} <= ids
    # A finding rests on the replicates; one network (the best, the truth's clouds) never counts as one.
    assert all(c.kind != "finding" for c in claims if "_best_" in c.id or c.id.startswith(("takens/hidden_",
                                                                                              "takens/true_",
                                                                                              "takens/generated_x")))
    # Tiny sizes may fail the claims, but every one carries a number or says why it has none.
    assert all(math.isfinite(c.measured) or c.note for c in claims)
    assert bool(summary["best"].values[0]) and bool(summary["best_of_arch"].values[0])


def test_linear_gaussian_null_keeps_the_variance_and_loses_to_the_truth(cfg, data, truth):
    # The noise-driven AR null keeps the data's stationary variance (the noiseless closed-loop AR
    # relaxes to its mean), so a null that can win; independent true trajectories (the floor) beat
    # it, and so must a network that rebuilt Lorenz.
    window, n_steps = lorenz_data.attractor_window(data)
    nulls = lorenz_truth.linear_gaussian_nulls(data, cfg["analysis"]["dsr"]["ar_order"], n_steps,
                                               np.random.default_rng(0))
    true = lorenz_data.true_x(data, "attractor")[:, window]
    assert nulls["ar"].shape == true.shape and nulls["var"].shape == (*true.shape, 3)
    # Ratio of variances within a factor 2: a relaxed (noiseless) AR would give ~0 after a few
    # correlation times; the tiny split's few short series leave the fit loose.
    assert 0.5 < nulls["ar"].var() / true.var() < 2.0
    np.testing.assert_allclose(np.sort(nulls["aaft"], axis=1),
                               np.sort(lorenz_data.true_x(data, "floor")[:, window], axis=1))
    assert float(truth["floor_d_stsp"]) < float(truth["null_d_stsp"])
    assert float(truth["floor_d_h"]) < min(float(truth["null_d_h"]), float(truth["aaft_d_h"]))


def test_summary_joins_networks_by_identity_not_position():
    def store(arch: str, replicate: int, vpt: float, loss: float, kind: str) -> xr.Dataset:
        identity = {"stage": "lorenz", "arch": arch, "hidden": 4, "replicate": replicate}
        if kind == "model":
            return xr.Dataset({"val_loss": ("epoch", [1.0, loss])}, attrs={"identity": identity, "status": "completed"})
        scalars = {name: ((), 0.0) for name in ("kaplan_yorke", "kaplan_yorke_intrinsic", "n_intrinsic", "d_stsp",
                                                 "d_h", "hidden_n_dominant_h1", "hidden_d2",
                                                 "generated_delay_d2", "generated_x_d2_nolds", "bottleneck_hidden_true",
                                                 "bottleneck_hidden_delay")}
        return xr.Dataset({"lyapunov_mean": ("exponent", [vpt, 0.0]), "conditional_mean": ("exponent", [-1.0, -2.0]),
                           "intrinsic": ("exponent", [True, False]),
                           "intrinsic_lambda": ("intrinsic_index", [vpt, np.nan, np.nan]), "vpt_test": ("test_trajectory", [vpt] * 3),
                           "vpt_val": ("val_window", [vpt] * 2), "generated_x_fnn": ("fnn_dim", [0.5, 0.0]), **scalars},
                          coords={"fnn_dim": [2, 3]}, attrs={"identity": identity})
    models = [store("gru", 0, 0, 0.2, "model"), store("gru", 1, 0, 0.1, "model"), store("lstm", 0, 0, 0.3, "model")]
    # Analyses in another order than the networks: each row still gets its own network's numbers.
    analyses = [store("lstm", 0, 3.0, 0, "analysis"), store("gru", 0, 1.0, 0, "analysis"),
                store("gru", 1, 2.0, 0, "analysis")]
    summary = lorenz.summarise(models, analyses)
    assert summary["model"].values.tolist() == ["scalar_gru_h4_rep0", "scalar_gru_h4_rep1", "scalar_lstm_h4_rep0"]
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


@pytest.mark.parametrize(("change", "key"), [
    (lambda t: t["archs"]["gru"]["phases"][0].update(mode="sparse_tf", input_noise=0.0, tf_interval=0),
     "lorenz.training.archs.gru.phases.0.tf_interval"),
    (lambda t: t["archs"]["gru"]["phases"][0].update(mode="sparse_tf", input_noise=0.0, tf_interval=2.5),
     "lorenz.training.archs.gru.phases.0.tf_interval"),
    (lambda t: t["archs"]["gru"]["phases"][0].update(mode="gtf", input_noise=0.0, gtf_alpha=1.5),
     "lorenz.training.archs.gru.phases.0.gtf_alpha"),
    (lambda t: t["archs"]["gru"]["phases"][0].update(mode="gtf", input_noise=0.0, gtf_alpha=-0.1),
     "lorenz.training.archs.gru.phases.0.gtf_alpha"),
    (lambda t: t["archs"]["gru"]["phases"][0].update(mode="gtf", input_noise=0.0, gtf_alpha="fixed"),
     "lorenz.training.archs.gru.phases.0.gtf_alpha"),
    (lambda t: t["archs"]["gru"]["phases"][0].update(mode="forcing"), "lorenz.training.archs.gru.phases.0.mode"),
    (lambda t: t["archs"].update(transformer=t["archs"]["gru"]), "lorenz.training.archs"),
    (lambda t: t["archs"]["gru"].pop("hidden_sizes"), "lorenz.training.archs.gru"),
    (lambda t: t.update(replicates=0), "lorenz.training.replicates"),
])
def test_schema_refuses_bad_training_settings_naming_the_key(change, key):

    training = copy.deepcopy(TINY["training"])
    change(training)
    config = {"stages": ["lorenz"], "lorenz": {**copy.deepcopy(TINY), "training": training}}
    with pytest.raises(ConfigError, match=f"'{key}'") as error:
        validate_config(config, load_schema(SCHEMA))
    assert len(str(error.value).splitlines()) == 2, str(error.value)


def test_schema_accepts_every_mode_and_family():
    config = {"stages": ["lorenz"], "lorenz": {"settings": ["full"], "training": {"archs": {
        "shplrnn": {"hidden_sizes": [3], "options": {"hidden_width": 5}, "phases": [
            {"mode": "gtf", "epochs": 1, "gtf_alpha": 0.3}, {"mode": "gtf", "epochs": 1},
            {"mode": "sparse_tf", "epochs": 1, "tf_interval": 7}, {"mode": "rollout", "epochs": 1}]},
        "lstm": {"hidden_sizes": [4], "phases": [{"mode": "teacher", "epochs": 1}]}}}}}
    lorenz = validate_config(config, load_schema(SCHEMA))["lorenz"]
    assert lorenz["training"]["archs"]["shplrnn"]["phases"][1]["gtf_alpha"] == "adaptive"
    assert lorenz["training"]["archs"]["lstm"]["options"] == {}


def _limit_cycle_network() -> torch.nn.Module:
    """A 3-unit tanh network whose closed loop circles: ``W`` rotates the first two units by
    2 pi / 25 per step with gain 1.2 and damps the third by 0.5; it reads out 2 h_1 and feeds its
    input weakly to unit 1 (0.05), so the warm-up moves it off the unstable origin and the closed
    loop's linear part keeps complex eigenvalues of modulus above 1: an invariant circle born in a
    Neimark-Sacker bifurcation, lambda1 = 0."""
    from rnndyn.models.registry import build_model

    model = build_model("vanilla", input_size=1, hidden_size=3, output_size=1, generator=torch.Generator(),
                        dtype=torch.float64)
    angle = 2 * math.pi / 25
    rotation = 1.2 * torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        model.rnn.weight_hh_l0[:2, :2] = rotation
        model.rnn.weight_hh_l0[2, 2] = 0.5
        model.output_layer.weight[0, 0] = 2.0
        model.rnn.weight_ih_l0[0, 0] = 0.05
    return model.eval()


def test_claims_fail_on_a_network_that_did_not_rebuild_lorenz(cfg, truth):
    """Issue 12's negative control at stage level: a network whose closed loop is a limit cycle goes
    through the stage's own analysis and claims; every claim that says "this is Lorenz" fails, while
    the measurements themselves are right for a circle (lambda1 = 0, one loop, D2 = 1)."""
    from rnndyn.models.trained import network_store

    model = _limit_cycle_network()
    history = xr.Dataset({"loss": ("epoch", [1.0]), "val_loss": ("epoch", [1.0])}, coords={"epoch": [0]})
    identity = {"stage": "lorenz", "setting": "scalar", "arch": "vanilla", "hidden": 3, "replicate": 0}
    ds = network_store(model, history, build={"arch": "vanilla", "input_size": 1, "hidden_size": 3, "output_size": 1},
                       identity=identity, status="completed", device="cpu")
    # 3 units: a spectrum long enough to settle on the circle (with a drive as long) and a cloud
    # large enough for D2 are cheap.
    settings = copy.deepcopy(cfg["analysis"])
    settings["lyapunov"].update(n_steps=3000, n_transient=1000)
    long_drive = lorenz_data.simulate_splits({**cfg["data"], "drive_steps": 4100, "attractor_steps": 4000},
                                             Streams(SEED, "lorenz"))
    analysis = lorenz_analysis.analyse_network(load_network(ds), long_drive, truth, settings,
                                               Streams(SEED, "limit cycle").numpy("analysis"))
    assert abs(float(analysis["lyapunov_mean"][0])) < 0.05  # the circle's neutral direction, 1/time
    summary = lorenz.summarise([ds], [analysis.assign_attrs(identity=identity)])
    claims = {c.id: c for c in lorenz.network_claims(summary, truth)}
    for quantity in ("rnn-lyapunov/scalar_vanilla_h3_lambda1", "rnn-lyapunov/scalar_best_lambda1",
                     "rnn-lyapunov/scalar_vanilla_h3_n_intrinsic", "takens/scalar_vanilla_h3_hidden_d2",
                     "takens/hidden_h1_dominant_bars", "takens/hidden_d2",
                     "dsr-metrics/scalar_vanilla_h3_d_stsp_beats_null", "dsr-metrics/scalar_vanilla_h3_d_h_beats_null"):
        assert not claims[quantity].passed, quantity
    assert claims["takens/hidden_h1_dominant_bars"].measured == 1
    assert claims["takens/scalar_vanilla_h3_hidden_d2"].measured == pytest.approx(1.0, abs=0.15)
