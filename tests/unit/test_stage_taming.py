"""The taming stage (claim `taming`) at tiny size: gradient bounds, leaky time constant, copy task, claims."""

import logging
import math

import numpy as np
import pytest
import torch
import xarray as xr

from rnndyn.analysis.gradients import gradient_growth_rate
from rnndyn.config import ConfigError, load_schema, validate_config
from rnndyn.jobs import Job
from rnndyn.models import build_model
from rnndyn.models.trained import network_identity
from rnndyn.seeding import Streams, derive_seed, numpy_generator
from rnndyn.stages import taming, taming_copy, taming_init
from rnndyn.store import read_dataset
from rnndyn.systems.tasks import copy_task
from tests.conftest import SCHEMA
from tests.unit.claim_labels import assert_labelled

CFG = {
    "archs": ["vanilla", "orthogonal", "lstm"],
    "hidden_size": 12,
    "g": 1.0,
    "leaky_alpha": 0.2,
    "replicates": 1,
    "init": {"n_lags": 60, "n_trials": 3, "chaotic_g": 2.5},
    "leaky": {"alpha": [0.01, 0.1, 0.3, 0.9], "n_steps": 250,
              "driven": {"g": 0.5, "drive": 8.0, "n_settle": 300, "n_transient": 100, "n_measure": 400,
                         "perturbation": 1e-7}},
    "copy": {"delays": [5, 10], "n_symbols": 8, "length": 10, "n_train": 32, "n_test": 16},
    "train": {"epochs": 1, "batch_size": 16, "optimizer": "adam", "lr": 0.01, "schedule": "constant",
              "grad_clip": 1.0, "checkpoint_every": None},
    "lyapunov": {"n_trajectories": 2, "n_transient": 20, "n_steps": 50},
    "analysis": {"solve_accuracy": 0.9, "efold_rel_tol": 0.01},
}
DRIVEN = {**CFG, "leaky": {**CFG["leaky"], "alpha": [0.2, 0.5],
                            "driven": {**CFG["leaky"]["driven"], "n_settle": 600, "n_transient": 200,
                                       "n_measure": 1000}}}
EPS = np.finfo(np.float64).eps


def _copy_inputs(n_trials: int, n_steps: int, seed: int) -> torch.Tensor:
    x, _ = copy_task(np.random.default_rng(seed), n_trials=n_trials, delay=n_steps - 20)
    return torch.from_numpy(x)


def test_orthogonal_linear_gradient_norm_is_one_to_round_off():
    model = taming_init.build(taming.ORTHOGONAL_LINEAR, CFG, torch.Generator().manual_seed(0), torch.float64)
    log_norms = taming_init.gradient_norms(model, _copy_inputs(3, 200, 0))
    # The Jacobian of h <- W h + U x + b is the orthogonal W: the unit read-out keeps norm 1. Each of the
    # 200 products rounds with relative error <= ~N eps: bound 200 N eps.
    assert np.abs(np.exp(log_norms) - 1.0).max() <= 200 * CFG["hidden_size"] * EPS


@pytest.mark.parametrize("g", [0.3, 1.0, 4.0])
def test_spectral_norm_network_gradient_never_exceeds_one(g):
    # ||W||_2 <= 1 and |tanh'| <= 1 bound every Jacobian; with V small (g = 0.3) the bound is inactive.
    model = build_model("spectral", input_size=10, hidden_size=16, output_size=9, g=g,
                        generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    log_norms = taming_init.gradient_norms(model, _copy_inputs(4, 80, 1))
    assert log_norms[:, 1:].max() <= np.log1p(80 * 16 * EPS)


def test_chaotic_vanilla_network_gradient_explodes():
    # g = 2.5: the random tanh network is chaotic, lambda1 ~ +0.2 per step (chaos stage, N = 64-128).
    cfg = {**CFG, "hidden_size": 48}
    model = taming_init.build(taming.VANILLA_CHAOTIC, cfg, torch.Generator().manual_seed(2), torch.float64)
    rate, error = gradient_growth_rate(taming_init.gradient_norms(model, _copy_inputs(6, 150, 2)), min_lag=40)
    assert rate > 0.05 and rate > 5 * error


def test_efold_time_of_an_exponential_is_exact():
    for tau in (0.7, 3.2, 17.0):
        response = np.exp(-np.arange(60) / tau)
        assert taming_init.efold_time(response) == pytest.approx(tau, rel=1e-12)
    assert math.isnan(taming_init.efold_time(np.ones(10)))


def test_leaky_unit_forgets_with_time_constant_minus_one_over_log_one_minus_alpha():
    result = taming_init.leaky_impulse_response(CFG, Streams(3, "taming"))
    alpha = result["alpha"].values
    # With W = 0 the state decays exactly as (1 - alpha)^t: only round-off separates the two.
    np.testing.assert_allclose(result["efold_time"], -1.0 / np.log1p(-alpha), rtol=1e-10)
    np.testing.assert_allclose(result["response"].sel(alpha=0.1).values[:10], 0.9 ** np.arange(10), rtol=1e-12)
    # 1/alpha is only the small-alpha limit: 5 % off at alpha = 0.1.
    assert result["efold_time_approx"].sel(alpha=0.1) / result["efold_time"].sel(alpha=0.1) == pytest.approx(
        1.054, abs=1e-3)


def test_model_options():
    assert taming_init.model_options("leaky", CFG) == ("leaky", {"alpha": 0.2, "g": 1.0})
    assert taming_init.model_options(taming.ORTHOGONAL_LINEAR, CFG) == ("orthogonal", {"nonlinearity": "linear"})
    assert taming_init.model_options(taming.VANILLA_CHAOTIC, CFG) == ("vanilla", {"g": 2.5})
    assert taming_init.model_options("gru", CFG) == ("gru", {})


def test_init_streams_keep_their_keys():
    # The init job (no wildcards) draws ("taming", "init", "inputs" | arch) and ("taming", "leaky", alpha).
    streams = Streams(5, "taming")
    taming_init.initialisation(CFG, streams)
    assert streams.used["init/inputs"] == derive_seed(5, "taming", "init", "inputs")
    assert streams.used["init/lstm"] == derive_seed(5, "taming", "init", "lstm")
    assert streams.used["leaky/0.1"] == derive_seed(5, "taming", "leaky", 0.1)
    alphas = CFG["leaky"]["alpha"]
    assert set(streams.used) == {"init/inputs"} | {f"leaky/{a}" for a in alphas} | {
        f"leaky_driven/{a}" for a in alphas} | {f"leaky_driven/{a}/direction" for a in alphas} | {
        f"init/{a}" for a in [*CFG["archs"], taming.ORTHOGONAL_LINEAR, taming.VANILLA_CHAOTIC]}


def _streams(arch: str, delay: int, replicate: int, base_seed: int = 4) -> Streams:
    """One network's streams in a train or analyse job: the job's (its wildcards arch and replicate as
    Snakemake passes them, strings), then the delay."""
    return Streams(base_seed, "taming", arch, str(replicate)).child(delay)


def test_trials_are_the_same_for_every_architecture():
    ccfg = CFG["copy"]
    data = {arch: taming_copy.copy_data(ccfg, 3, 0, taming_copy.trial_streams(_streams(arch, 3, 0)))
            for arch in ("vanilla", "lstm")}
    expected, _ = copy_task(numpy_generator(4, "taming", "copy", 3, 0, "test"), n_trials=16, delay=3)
    for arch in data:
        np.testing.assert_array_equal(data[arch]["test_inputs"].numpy(), expected)
        assert data[arch]["train_inputs"].shape == (32, 23, 10)
    np.testing.assert_array_equal(data["vanilla"]["train_targets"], data["lstm"]["train_targets"])


def test_train_copy_stores_the_network_and_analyse_reproduces_it():
    streams = _streams("lstm", 3, 0)
    net = taming_copy.train_copy("lstm", 3, 0, CFG, streams)
    assert net.attrs["status"] == "completed" and net.sizes["epoch"] == 1
    assert network_identity(net) == {"stage": "taming", "arch": "lstm", "delay": 3, "replicate": 0}
    assert net.attrs["build"] == {"arch": "lstm", "input_size": 10, "hidden_size": 12, "output_size": 9}
    # The timing is stored, marked so that the reproducibility digest leaves it out.
    assert net["seconds"].attrs["wall_clock"] == 1
    # Same keys as before the job contract: the job's prefix, then the purpose; the trials without arch.
    assert streams.used == {"3/init": derive_seed(4, "taming", "lstm", 0, 3, "init"),
                            "3/order": derive_seed(4, "taming", "lstm", 0, 3, "order"),
                            "taming:copy/3/0/train": derive_seed(4, "taming", "copy", 3, 0, "train"),
                            "taming:copy/3/0/test": derive_seed(4, "taming", "copy", 3, 0, "test")}

    run = taming_copy.analyse_network(net, CFG, _streams("lstm", 3, 0))
    assert run.attrs["identity"] == network_identity(net) and run.attrs["status"] == "completed"
    assert float(run["baseline_cross_entropy"]) == pytest.approx(10 * math.log(8) / 23, rel=1e-15)
    assert 0.0 <= float(run["recall_accuracy"]) <= 1.0 and float(run["test_cross_entropy"]) > 0
    assert run.sizes["trajectory"] == 2 and run.sizes["lag"] == 3 + 20 + 1 and run.sizes["trial"] == 3
    assert np.isfinite(run["lambda1"]).all()
    for name in run.data_vars:
        assert {"units", "long_name"} <= set(run[name].attrs), name
    # The analysis of the stored network equals that of the float32 network trained in memory, moved to
    # float64 (as before the trained-network store): the stored float64 parameters are its float32 values.
    trained = taming_init.build("lstm", CFG, torch.Generator())
    trained.load_state_dict({k: torch.as_tensor(net[f"param.{k}"].values, dtype=torch.float32)
                             for k in trained.state_dict()})
    test = taming_copy.copy_data(CFG["copy"], 3, 0, taming_copy.trial_streams(_streams("lstm", 3, 0)), ("test",))
    scores = taming_copy.copy_scores(trained.to(torch.float64), test["test_inputs"].double(), test["test_targets"], 10)
    assert scores["cross_entropy"] == float(run["test_cross_entropy"])
    assert scores["recall_accuracy"] == float(run["recall_accuracy"])
    assert float(run["gradient_rate"]) == gradient_growth_rate(run["log_gradient_norm"].values, min_lag=24 // 4)[0]
    assert float(run["max_gradient_norm"]) == np.exp(run["log_gradient_norm"].values[:, 1:].max())


def test_one_job_trains_and_analyses_every_delay_of_an_architecture_and_replicate(tmp_path):
    # The train job writes output i for the i-th delay of copy.delays; each network is the one
    # train_copy builds from the job's streams followed by the delay, so a network does not depend on
    # which other delays share its job.
    cfg = {**CFG, "copy": {**CFG["copy"], "delays": [5, 3]}}
    models = [str(tmp_path / "models" / f"L{delay}.zarr") for delay in cfg["copy"]["delays"]]
    analyses = [str(tmp_path / "analysis" / f"L{delay}.zarr") for delay in cfg["copy"]["delays"]]

    def job(rule: str, inputs: list[str], outputs: list[str]) -> Job:
        return Job(rule=rule, config=cfg, wildcards={"arch": "vanilla", "replicate": "1"}, input=inputs,
                   output=outputs, log=logging.getLogger("test"), streams=Streams(4, "taming", "vanilla", "1"),
                   checkpoint_dir=tmp_path / "checkpoints")

    taming_copy.train_job(job("taming_train", [], models))
    taming_copy.analyse_job(job("taming_analyse", models, analyses))
    for delay, model_path, analysis_path in zip(cfg["copy"]["delays"], models, analyses):
        net = read_dataset(model_path)
        assert network_identity(net) == {"stage": "taming", "arch": "vanilla", "delay": delay, "replicate": 1}
        alone = taming_copy.train_copy("vanilla", delay, 1, cfg, _streams("vanilla", delay, 1))
        np.testing.assert_array_equal(net["param.rnn.weight_hh_l0"].values, alone["param.rnn.weight_hh_l0"].values)
        assert read_dataset(analysis_path).attrs["identity"] == network_identity(net)


def _fake_run(arch: str, delay: int, accuracy: float, lam1: float, replicate: int = 0) -> xr.Dataset:
    return xr.Dataset(
        {"recall_accuracy": ((), accuracy), "test_cross_entropy": ((), 0.5), "lambda1": (("trajectory",), [lam1]),
         "baseline_cross_entropy": ((), 10 * math.log(8) / (delay + 20)),
         "gradient_rate": ((), -0.1), "max_gradient_norm": ((), 1.0)},
        attrs={"identity": {"stage": "taming", "arch": arch, "delay": delay, "replicate": replicate},
               "status": "completed"})


def test_solved_delays_and_claims():
    init = taming_init.initialisation(CFG, Streams(5, "taming"))
    # Accuracy per (arch, delay) and replicate 0, 1, 2.
    accuracy = {("vanilla", 5): (0.95, 0.3, 0.2), ("vanilla", 10): (0.1, 0.1, 0.2),
                ("orthogonal", 5): (1.0, 1.0, 0.5), ("orthogonal", 10): (0.95, 0.92, 0.91),
                ("lstm", 5): (0.92, 0.99, 0.93), ("lstm", 10): (0.95, 0.97, 0.3)}
    runs = [_fake_run(a, L, acc[r], lam1=-0.05 if a == "orthogonal" else -0.5, replicate=r)
            for (a, L), acc in accuracy.items() for r in range(3)]
    # Networks are placed by their stores' identity, not by list position: architectures in the order
    # they first appear, delays and replicates sorted.
    runs = runs[::-1]
    summary = taming.summarise(init, runs, CFG)
    assert list(summary["arch"].values) == ["lstm", "orthogonal", "vanilla"]
    assert list(summary["delay"].values) == [5, 10] and list(summary["replicate"].values) == [0, 1, 2]
    assert float(summary["recall_accuracy"].sel(arch="orthogonal", delay=10, replicate=1)) == 0.92
    longest = {a: list(summary["longest_solved_delay"].sel(arch=a).values) for a in ("vanilla", "orthogonal", "lstm")}
    # The largest solved delay, even where a shorter one is not solved (orthogonal, replicate 2).
    assert longest == {"vanilla": [5, 0, 0], "orthogonal": [10, 10, 10], "lstm": [10, 10, 5]}
    assert summary.attrs["hidden_size"] == 12 and summary.attrs["epochs"] == 1 and summary.attrs["n_symbols"] == 8
    claims = {c.id: c for c in taming.claims(summary, CFG)}
    # Judged on the intervals: orthogonal's [10, 10] lies above vanilla's [0, 5]; lstm's median (10)
    # beats vanilla's (0) but its interval [5, 10] does not clear vanilla's upper end, 5.
    ortho, lstm = claims["taming/copy_orthogonal_beats_vanilla"], claims["taming/copy_lstm_beats_vanilla"]
    assert ortho.passed and (ortho.measured, ortho.expected) == (10, 5)
    assert not lstm.passed and (lstm.measured, lstm.expected) == (5, 5)
    assert "taming/copy_gru_beats_vanilla" not in claims  # gru was not trained
    # Edge of chaos at the lower median of the longest solved delays, every solving replicate within 1/L.
    assert claims["taming/edge_of_chaos_orthogonal"].passed  # |-0.05| <= 1/10
    assert not claims["taming/edge_of_chaos_lstm"].passed  # |-0.5| > 1/10
    assert "taming/edge_of_chaos_vanilla" not in claims  # its lower median solves nothing
    assert claims["taming/orthogonal_linear_gradient_norm"].passed
    # N = 12 is too small for chaos at g = 2.5: only the presence of the claim is checked here.
    assert "taming/vanilla_chaotic_gradient_explodes" in claims
    assert claims["taming/leaky_efold_time"].passed


def test_driven_leaky_efold_time_follows_the_jacobian_not_alpha_alone():
    result = taming_init.driven_leaky_efold_time(DRIVEN, Streams(6, "taming"))
    measured, theory = result["driven_efold_time"].values, result["driven_efold_time_theory"].values
    uncoupled = result["driven_efold_time_uncoupled"].values
    assert (result["driven_fixed_point_residual"].values < 1e-12).all()
    # The drive moves the operating point into the tanh's bend: slopes below 1, so D W differs from W.
    assert (result["driven_mean_slope"].values < 0.9).all()
    np.testing.assert_allclose(measured, theory, rtol=1e-3)
    # The formula that ignores W is off by 14-23 % here (N = 12), far beyond the 0.1 % agreement above:
    # the measurement is sensitive to the recurrent weights.
    assert (np.abs(measured / uncoupled - 1.0) > 0.1).all()
    # The log norm of the perturbation falls along -t / tau once the slowest mode dominates.
    log_norm = result["driven_log_norm"].sel(alpha=0.5).values
    assert (log_norm[-1] - log_norm[-501]) / 500 == pytest.approx(-1.0 / theory[1], rel=1e-3)


def test_driven_leaky_claim_passes_on_the_jacobian_and_fails_on_the_uncoupled_formula():
    driven = taming_init.driven_leaky_efold_time(DRIVEN, Streams(6, "taming"))
    summary = driven
    claim = taming.driven_leaky_claim(summary, rel_tol=0.01)
    assert claim.passed and (claim.kind, claim.criterion) == ("theory", "=±tol")
    # The same measurement judged against -1/ln(1 - alpha), the tautology at g = 0, fails.
    wrong = summary.assign(driven_efold_time_theory=summary["driven_efold_time_uncoupled"])
    assert not taming.driven_leaky_claim(wrong, rel_tol=0.01).passed


def test_without_coupling_the_driven_time_is_the_uncoupled_one():
    # g -> 0: J = (1 - alpha) I whatever the drive, so theory and the uncoupled formula agree.
    cfg = {**DRIVEN, "leaky": {**DRIVEN["leaky"], "driven": {**DRIVEN["leaky"]["driven"], "g": 1e-12}}}
    result = taming_init.driven_leaky_efold_time(cfg, Streams(6, "taming"))
    np.testing.assert_allclose(result["driven_efold_time_theory"], result["driven_efold_time_uncoupled"], rtol=1e-9)
    np.testing.assert_allclose(result["driven_efold_time"], result["driven_efold_time_uncoupled"], rtol=1e-6)


def test_slowest_mode_efold_time_of_a_known_matrix():
    jacobian = np.diag([0.5, np.exp(-1.0 / 7.0), 0.1])
    assert taming_init.slowest_mode_efold_time(jacobian) == pytest.approx(7.0, rel=1e-12)
    assert math.isnan(taming_init.slowest_mode_efold_time(np.diag([1.2, 0.3])))
    weight = np.array([[0.0, 2.0], [0.5, 0.0]])
    expected = (1 - 0.3) * np.eye(2) + 0.3 * np.diag(1 - np.tanh([0.4, -1.0]) ** 2) @ weight
    np.testing.assert_allclose(taming_init.leaky_jacobian(weight, np.array([0.4, -1.0]), 0.3), expected, rtol=1e-15)


@pytest.mark.parametrize(("change", "key"), [
    (lambda t: t["leaky"].update(driven={"g": 0.0}), "taming.leaky.driven.g"),
    (lambda t: t["leaky"].update(driven={"perturbation": 0.1}), "taming.leaky.driven.perturbation"),
    (lambda t: t["leaky"].update(driven={"n_measure": 0}), "taming.leaky.driven.n_measure"),
    (lambda t: t["leaky"].update(driven={"tau": 3}), "taming.leaky.driven.tau"),
    (lambda t: t.update(replicates=0), "taming.replicates"),
])
def test_schema_refuses_bad_values_naming_the_key(change, key):
    taming_section = {"archs": ["vanilla"], "leaky": {}}
    change(taming_section)
    with pytest.raises(ConfigError, match=f"'{key}'"):
        validate_config({"stages": ["taming"], "taming": taming_section}, load_schema(SCHEMA))


def test_every_claim_says_its_kind_rule_and_figure():
    cfg = {**CFG, "archs": ["vanilla", "spectral", "orthogonal"]}
    init = taming_init.initialisation(cfg, Streams(5, "taming"))
    for solved in (True, False):  # with a solver, and the edge-of-chaos row when nothing is solved
        runs = [_fake_run(a, L, 1.0 if solved and a == "orthogonal" else 0.1, lam1=-0.05)
                for a in cfg["archs"] for L in cfg["copy"]["delays"]]
        claims = {c.id: c for c in taming.claims(taming.summarise(init, runs, cfg), cfg)}
        assert_labelled(claims.values(), "taming")
        labels = {i: (c.kind, c.criterion) for i, c in claims.items()}
        assert labels["taming/orthogonal_linear_gradient_norm"] == ("identity", "=±tol")
        assert labels["taming/spectral_gradient_norm_at_init"] == ("identity", "<=")
        assert labels["taming/spectral_gradient_norm_trained"] == ("identity", "<=")
        assert labels["taming/leaky_efold_time"] == ("identity", "=±tol")
        assert labels["taming/leaky_efold_time_driven"] == ("theory", "=±tol")
        assert labels["taming/vanilla_chaotic_gradient_explodes"] == ("theory", ">")
        assert labels["taming/copy_orthogonal_beats_vanilla"] == ("finding", ">")
        edge = "taming/edge_of_chaos_orthogonal" if solved else "taming/edge_of_chaos"
        assert labels[edge] == ("finding", "=±tol") and claims[edge].passed == solved
