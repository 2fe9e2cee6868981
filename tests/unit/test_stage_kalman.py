"""The Kalman stage (claim `kalman`): data, the training job, analysis and claims."""

from __future__ import annotations

import functools
import math
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import xarray as xr

from rnndyn.analysis.kalman import (
    autocovariance_toeplitz,
    excess_mse,
    kalman_predictor_matrices,
    linearised_recurrence,
    prediction_mse_floor,
    steady_state_kalman,
)
from rnndyn.jobs import run
from rnndyn.models import build_model
from rnndyn.models.trained import load_network, network_identity, network_store
from rnndyn.seeding import derive_seed
from rnndyn.stages import kalman as stage
from rnndyn.stages import kalman_networks as networks
from rnndyn.store import array_digest, read_dataset, read_provenance, write_dataset
from rnndyn.stages.kalman import GAP_TOL_DB
from rnndyn.systems.lgssm import stationary_state_covariance, system_from_spec
from rnndyn.training import TrainingInterrupted, train
from rnndyn.training import network
from tests.unit.claim_labels import assert_labelled

DATA = {"n_train": 4, "n_val": 2, "n_test": 16, "train_steps": 20, "test_steps": 300}
ANALYSIS = {"burn_in": 30, "n_impulse_lags": 10, "noise_sweep": ["sys"]}
SPEC = {"kind": "canonical", "n": 2, "rho": 0.9, "noise_ratio_db": 0.0, "r2": 1.0}


@pytest.fixture(scope="module")
def data():
    system = system_from_spec(SPEC, None)
    return stage.simulate_splits(system, np.random.default_rng(0), DATA).assign_attrs(system="sys", **SPEC)


@pytest.fixture(scope="module")
def data_20k():
    """20,000 training observations: enough to tell a detuned predictor from the Kalman one."""
    system = system_from_spec(SPEC, None)
    sizes = {**DATA, "n_train": 2000, "train_steps": 10}
    return stage.simulate_splits(system, np.random.default_rng(2), sizes).assign_attrs(system="sys", **SPEC)


def _linear_network(data: xr.Dataset, hidden_per_state: int, arch: str = "linear", seed: int = 0):
    p, n = data.sizes["output"], data.sizes["state"]
    build = {"arch": arch, "input_size": p, "hidden_size": hidden_per_state * n, "output_size": p}
    return build_model(arch, generator=torch.Generator().manual_seed(seed), dtype=torch.float64,
                       **{k: v for k, v in build.items() if k != "arch"}), build


def _kalman_network(data: xr.Dataset, hidden_per_state: int = 1) -> tuple[torch.nn.Module, dict]:
    """A linear network whose weights are the steady-state Kalman predictor (in the rescaled units),
    padded with decoupled, unobservable extra units when hidden_per_state > 1."""
    system = stage.system_of(data)
    _, K = steady_state_kalman(system.A, system.C, system.Q, system.R)
    W_kf, G_kf = kalman_predictor_matrices(system.A, system.C, K)
    n, scale = W_kf.shape[0], data["scale"].values
    H = hidden_per_state * n
    W, U, C = np.zeros((H, H)), np.zeros((H, scale.size)), np.zeros((scale.size, H))
    W[:n, :n], U[:n], C[:, :n] = W_kf, G_kf * scale[None, :], system.C / scale[:, None]
    W[n:, n:] = 0.5 * np.eye(H - n)  # fed by the input, never read out
    U[n:] = 1.0
    model, build = _linear_network(data, hidden_per_state)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(torch.as_tensor(W))
        model.rnn.weight_ih_l0.copy_(torch.as_tensor(U))
        model.output_layer.weight.copy_(torch.as_tensor(C))
    return model, build


def _store(model: torch.nn.Module, build: dict, replicate: int = 0, val_loss: float = 1.0) -> xr.Dataset:
    history = xr.Dataset({"loss": ("epoch", [val_loss]), "val_loss": ("epoch", [val_loss])}, coords={"epoch": [1]})
    return network_store(model, history, build=build, status="completed", device="cpu",
                         identity={"stage": "kalman", "system": "sys", "arch": build["arch"], "replicate": replicate})


def test_splits_store_the_system_and_have_the_requested_shapes(data):
    assert data["y_train"].shape == (4, 21, 2) and data["y_test"].shape == (16, 301, 2)
    system = stage.system_of(data)
    np.testing.assert_array_equal(system.A, 0.9 * np.array([[1.0, 1.0], [0.0, 1.0]]))
    inputs, targets = networks.training_pairs(data, "train")
    # Targets are the inputs shifted by one step, both divided by the per-output scale.
    np.testing.assert_allclose(targets[:, :-1].numpy(), inputs[:, 1:].numpy())
    np.testing.assert_allclose(inputs[0, 0].numpy(), data["y_train"].values[0, 0] / data["scale"].values, rtol=1e-6)


def test_training_sequences_start_where_the_steady_state_predictor_is_exact():
    system = system_from_spec(SPEC, None)
    P, _ = steady_state_kalman(system.A, system.C, system.Q, system.R)
    n = 20000
    splits = stage.simulate_splits(system, np.random.default_rng(1), {"n_train": n, "n_val": 2, "n_test": n,
                                                                       "train_steps": 1, "test_steps": 1})
    # From a zero state the first prediction of y_1 is 0, so its error covariance is Cov(y_1):
    # C P C^T + R (the floor, every step optimal) for the training split, C Sigma C^T + R for the
    # stationary test split. A variance estimated from 20,000 Gaussian samples has relative standard
    # error sqrt(2 / 20,000) = 1 %: 5 % is five of them.
    floor = np.diag(system.C @ P @ system.C.T + system.R)
    stationary = np.diag(system.C @ stationary_state_covariance(system.A, system.Q) @ system.C.T + system.R)
    np.testing.assert_allclose(splits["y_train"].values[:, 0].var(axis=0), floor, rtol=0.05)
    np.testing.assert_allclose(splits["y_test"].values[:, 0].var(axis=0), stationary, rtol=0.05)
    assert np.all(stationary > 2 * floor)  # the two starts are told apart


def test_linearisation_of_a_tanh_network_without_bias_is_the_network_itself(data):
    model, _ = _linear_network(data, 2, arch="vanilla", seed=5)
    W, U, C, residual = linearised_recurrence(model)
    # Biases start at 0, so h* = 0 and tanh'(0) = 1.
    assert residual == 0.0
    np.testing.assert_array_equal(W, model.recurrent_weight.detach().numpy())
    np.testing.assert_array_equal(U, model.input_weight.detach().numpy())


@pytest.mark.parametrize("hidden_per_state", [1, 2])
def test_the_kalman_predictor_as_a_network_has_zero_gap_and_its_eigenvalues(data, hidden_per_state):
    ds = networks.analyse({"sys": data}, [_store(*_kalman_network(data, hidden_per_state))], ANALYSIS)
    run_ = ds.sel(system="sys", arch="linear", replicate=0)
    # Same predictor in float64 through a rescaling and back: identical to ~1e-15 relative.
    assert abs(float(run_["gap_db"])) < 1e-9
    assert float(run_["impulse_error"]) < 1e-12
    assert abs(float(run_["gap_db_population"])) < 1e-12
    # Balanced truncation drops the decoupled unit exactly (zero Hankel singular value).
    assert float(run_["eigenvalue_error"]) < 1e-8
    # Round-off is below the 1e-10 that eps carries for it.
    assert float(run_["pole_backward_error"]) < 1e-12
    claims = {c.id: c for c in stage.claims(ds)}
    assert claims["kalman/gap_db/sys"].passed
    assert claims["kalman/impulse_response_error/sys"].passed
    assert claims["kalman/pole_backward_error/sys"].passed
    assert claims["kalman/noise_sweep_max_gap_db"].passed


def _detuned_network(data: xr.Dataset, factor: float = 0.5) -> tuple[torch.nn.Module, dict]:
    model, build = _kalman_network(data)
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(factor)
    return model, build


def test_kalman_mse_matches_the_floor_and_claims_judge_the_median(data_20k):
    data = data_20k
    exact = _store(*_kalman_network(data), replicate=0)
    # The networks are placed by their identity, not by their position in the list.
    stores = [_store(*_detuned_network(data), replicate=2), exact, _store(*_detuned_network(data), replicate=1)]
    ds = networks.analyse({"sys": data}, stores, ANALYSIS)
    claims = {c.id: c for c in stage.claims(ds)}
    # 16 sequences x 270 steps: the MSE estimate is within 3 standard errors of the analytic floor.
    assert claims["kalman/kf_mse_vs_floor/sys"].passed
    assert float(ds["mse_tv"].sel(system="sys")) == pytest.approx(float(ds["mse_kf"].sel(system="sys")), rel=1e-6)
    gaps = ds["gap_db"].sel(system="sys", arch="linear").values
    assert abs(gaps[0]) < 1e-9 and gaps[1] == gaps[2] > GAP_TOL_DB
    # Two of three replicates detuned: the median is a detuned one and the findings fail.
    for name in ("gap_db", "impulse_response_error"):
        assert not claims[f"kalman/{name}/sys"].passed, name
    assert claims["kalman/gap_db/sys"].measured == gaps[1]
    assert "median of 3 replicates" in claims["kalman/gap_db/sys"].note
    assert not claims["kalman/noise_sweep_max_gap_db"].passed
    assert_labelled(claims.values(), "kalman")
    kinds = {c.id.rsplit("/", 1)[0] if c.id.count("/") > 1 else c.id: (c.kind, c.criterion, c.figure)
             for c in claims.values()}
    assert kinds == {"kalman/kf_mse_vs_floor": ("theory", "=±tol", "kalman_noise_sweep"),
                     "kalman/gap_db": ("finding", "=±tol", "kalman_gap"),
                     "kalman/impulse_response_error": ("finding", "<=", "kalman_impulse_response"),
                     "kalman/pole_backward_error": ("finding", "<=", "kalman_eigenvalues"),
                     "kalman/noise_sweep_max_gap_db": ("finding", "<=", "kalman_noise_sweep")}


def test_the_pole_claim_fails_when_poles_leave_the_region_the_impulse_response_allows(data):
    ds = networks.analyse({"sys": data}, [_store(*_detuned_network(data, 0.9), replicate=r) for r in range(3)],
                          ANALYSIS)
    claim = {c.id: c for c in stage.claims(ds)}["kalman/pole_backward_error/sys"]
    # A 10 % smaller recurrence is a small, generic perturbation: first-order theory explains its poles.
    assert claim.passed and 0 < claim.measured <= 1
    moved = ds.copy(deep=True)
    moved["pole_backward_error"] = 2.0 * moved["realisation_epsilon"]
    claim = {c.id: c for c in stage.claims(moved)}["kalman/pole_backward_error/sys"]
    assert not claim.passed and claim.measured == pytest.approx(2.0)


def test_the_impulse_response_error_a_gap_allows_is_a_bound_and_nearly_attained(data):
    ds = networks.analyse({"sys": data}, [_store(*_kalman_network(data))], ANALYSIS).sel(system="sys")
    allowed = stage.impulse_error_allowed_by_gap(ds)
    system = stage.system_of(data)
    p, n_lags = system.C.shape[0], int(ds.sizes["lag"])
    budget = p * float(ds["mse_floor"]) * (10 ** (GAP_TOL_DB / 10) - 1)  # excess MSE summed over outputs
    T = autocovariance_toeplitz(system.A, system.C, system.Q, system.R, n_lags)
    # Impulse-response errors scaled to spend the whole budget: random ones, and the cheapest one
    # (the smallest eigenvector of T, placed in the first output's row), which comes closest.
    directions = list(np.random.default_rng(11).standard_normal((5, n_lags, p, p)))
    cheapest = np.zeros((n_lags, p, p))
    cheapest[:, 0, :] = np.linalg.eigh(T)[1][:, 0].reshape(n_lags, p)
    for delta in [*directions, cheapest]:
        delta = delta * math.sqrt(budget / excess_mse(delta, system.A, system.C, system.Q, system.R))
        relative = np.linalg.norm(delta) / float(ds["kf_markov_norm"])
        assert relative <= allowed
    # Nearly attained: T's smallest eigenvalue, the spectral density's infimum over these lags, is
    # within 20 % of lambda_min(R) for this system (1.17, by a grid over frequencies).
    assert relative >= 0.8 * allowed


def test_noise_sweep_line_passes_through_its_systems_and_needs_one_family():
    systems = [system_from_spec({**SPEC, "noise_ratio_db": x, "r2": 10 ** (-x / 10)}, None) for x in (0.0, 10.0)]
    x, floor = networks.noise_sweep_line(systems, n_points=21, margin_db=5.0)
    np.testing.assert_allclose(x, np.arange(-5.0, 16.0))
    for point, system in zip((5, 15), systems):
        P, _ = steady_state_kalman(system.A, system.C, system.Q, system.R)
        assert floor[point] == pytest.approx(prediction_mse_floor(system.C, P, system.R), rel=1e-12)
    assert np.all(np.diff(floor) < 0)  # less observation noise, lower floor
    other_q = system_from_spec({**SPEC, "noise_ratio_db": 10.0}, None)  # r^2 = 1: q^2 = 10, not 1
    with pytest.raises(ValueError, match="share A, C and Q"):
        networks.noise_sweep_line([systems[0], other_q])


class _Files(list):
    """Snakemake's input/output: a list whose entries also have names."""

    def __init__(self, *paths: str, **named: str) -> None:
        super().__init__([*paths, *named.values()])
        self.__dict__.update(named)


def _train_snakemake(tmp_path: Path, data_path: Path, output: str) -> SimpleNamespace:
    wildcards = {"system": "sys", "arch": "linear", "replicate": "0"}
    return SimpleNamespace(
        rule="kalman_train", threads=1, log=[str(tmp_path / "logs" / f"{Path(output).stem}.log")],
        params=SimpleNamespace(cfg={"hidden_per_state": 1, "train": {"epochs": 3, "batch_size": 2, "lr": 0.01}},
                               seed=5, device="cpu"),
        wildcards=wildcards, input=_Files(str(data_path)), output=_Files(output))


def test_the_training_job_stores_its_network_and_resumes_after_preemption(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data_path = tmp_path / "data.zarr"
    write_dataset(data, data_path, provenance={"rule": "kalman_data"})
    whole_path = "results/kalman/models/sys/linear/rep0.zarr"
    run(_train_snakemake(tmp_path, data_path, whole_path), networks.train_job)
    whole = read_dataset(whole_path)
    assert whole.attrs["status"] == "completed" and whole.attrs["epochs_run"] == 3
    assert network_identity(whole) == {"stage": "kalman", "system": "sys", "arch": "linear", "replicate": 0}
    assert read_provenance(whole_path)["randomness"]["streams"] == {
        key: derive_seed(5, "kalman", "sys", "linear", "0", key) for key in ("init", "batches")}
    # The network is rebuilt from the store alone (hidden_per_state x n = 2 units); the contract
    # removed the checkpoint.
    assert load_network(whole).hidden_size == 2
    assert not Path("results/checkpoints/kalman/models/sys/linear/rep0").exists()

    # A job preempted after epoch 1 leaves its checkpoint; the next attempt ends where one run does.
    def preempt(epoch, record):
        if epoch == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    resumed_path = "results/kalman/models/sys/linear/resumed.zarr"
    checkpoint = Path("results/checkpoints/kalman/models/sys/linear/resumed/train.pt")
    with monkeypatch.context() as patch:
        patch.setattr(network, "train", functools.partial(train, callback=preempt))
        with pytest.raises(TrainingInterrupted) as interrupted:
            run(_train_snakemake(tmp_path, data_path, resumed_path), networks.train_job)
    assert interrupted.value.code == 75 and interrupted.value.epoch == 1
    assert checkpoint.exists() and not Path(resumed_path).exists()
    run(_train_snakemake(tmp_path, data_path, resumed_path), networks.train_job)
    assert "after epoch 1" in Path(tmp_path / "logs" / "resumed.log").read_text()
    assert not checkpoint.exists()
    assert array_digest(read_dataset(resumed_path)) == array_digest(whole)


def test_figures_keep_three_panels_a_row_and_8_pt_text(data):
    import matplotlib.pyplot as plt

    from rnndyn.plotting import kalman as plotting

    stores = [_store(*_kalman_network(data), replicate=0), _store(*_detuned_network(data, 0.9), replicate=1)]
    ds = networks.analyse({"sys": data}, stores, ANALYSIS)
    for figure in (plotting.gap(ds, GAP_TOL_DB), plotting.noise_sweep(ds, GAP_TOL_DB), plotting.eigenvalues(ds),
                   plotting.impulse_responses(ds)):
        panels = [ax for ax in figure.axes if ax.get_visible()]
        rows = {round(ax.get_position().y0, 3) for ax in panels}
        assert len(panels) <= 3 * len(rows)
        sizes = [text.get_fontsize() for text in figure.findobj(plt.Text) if text.get_text()]
        assert min(sizes) >= 8, sorted(sizes)[:5]
        plt.close(figure)
