"""The Kalman stage (claim `kalman`): data, the training job, analysis and claims."""

from __future__ import annotations

import functools
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import xarray as xr

from rnndyn.analysis.kalman import kalman_predictor_matrices, linearised_recurrence, steady_state_kalman
from rnndyn.jobs import run
from rnndyn.models import build_model
from rnndyn.models.trained import load_network, network_identity, network_store
from rnndyn.seeding import derive_seed
from rnndyn.stages import kalman as stage
from rnndyn.stages import kalman_networks as networks
from rnndyn.store import array_digest, read_dataset, read_provenance, write_dataset
from rnndyn.systems.lgssm import system_from_spec
from rnndyn.training import TrainingInterrupted, train
from rnndyn.training import network
from tests.unit.claim_labels import assert_labelled

DATA = {"n_train": 4, "n_val": 2, "n_test": 16, "train_steps": 20, "test_steps": 300}
ANALYSIS = {"burn_in": 30, "n_impulse_lags": 10}


@pytest.fixture(scope="module")
def data():
    system = system_from_spec({"kind": "canonical", "n": 2, "rho": 0.9, "noise_ratio_db": 0.0, "r2": 1.0}, None)
    return stage.simulate_splits(system, np.random.default_rng(0), DATA).assign_attrs(system="sys")


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
    # Balanced truncation drops the decoupled unit exactly (zero Hankel singular value).
    assert float(run_["eigenvalue_error"]) < 1e-8
    claims = {c.id: c for c in stage.claims(ds)}
    assert claims["kalman/gap_db/sys"].passed
    assert claims["kalman/eigenvalue_max_error/sys"].passed


def test_kalman_mse_matches_the_floor_and_claims_can_fail(data):
    model, build = _kalman_network(data)
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(0.5)  # a detuned filter
    # The networks are placed by their identity, not by their position in the list.
    detuned, exact = _store(model, build, replicate=1, val_loss=0.5), _store(*_kalman_network(data), val_loss=2.0)
    ds = networks.analyse({"sys": data}, [detuned, exact], ANALYSIS)
    claims = {c.id: c for c in stage.claims(ds)}
    # 16 sequences x 270 steps: the MSE estimate is within 3 standard errors of the analytic floor.
    assert claims["kalman/kf_mse_vs_floor/sys"].passed
    assert float(ds["mse_tv"].sel(system="sys")) == pytest.approx(float(ds["mse_kf"].sel(system="sys")), rel=1e-6)
    assert float(ds["gap_db"].sel(system="sys", arch="linear", replicate=1)) > 0
    assert abs(float(ds["gap_db"].sel(system="sys", arch="linear", replicate=0))) < 1e-9
    # The claim reports the replicate with the lowest validation loss: the detuned one.
    assert not claims["kalman/eigenvalue_max_error/sys"].passed
    assert_labelled(claims.values(), "kalman")
    kinds = {c.id.rsplit("/", 1)[0]: (c.kind, c.criterion, c.figure) for c in claims.values()}
    assert kinds == {"kalman/kf_mse_vs_floor": ("theory", "=±tol", ""),
                     "kalman/gap_db": ("finding", "=±tol", "kalman_gap"),
                     "kalman/eigenvalue_max_error": ("finding", "=±tol", "kalman_eigenvalues")}
    assert "2 replicate(s)" in claims["kalman/gap_db/sys"].note
    assert "chosen by eye" in claims["kalman/eigenvalue_max_error/sys"].note


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
