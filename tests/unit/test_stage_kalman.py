"""The Kalman stage (claim `kalman`): data, model storage, balanced truncation, analysis and claims."""

from __future__ import annotations

import functools
import logging
import os
import signal

import numpy as np
import pytest
import torch
import xarray as xr

from rnndyn.analysis.kalman import kalman_predictor_matrices, steady_state_kalman
from rnndyn.models.parameters import load_model_parameters, model_parameters
from rnndyn.stages import kalman as stage
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed
from rnndyn.stages.runs import best_seed, train_and_store
from rnndyn.store import array_digest, read_dataset, read_provenance, write_dataset
from rnndyn.training import TrainingInterrupted, train

DATA = {"n_train": 4, "n_val": 2, "n_test": 16, "train_steps": 20, "test_steps": 300, "burn_in": 30}
CFG = {"data": DATA, "analysis": {"n_impulse_lags": 10},
       "models": {"linear": {"hidden_per_state": 1, "train": {"epochs": 1}},
                  "vanilla": {"hidden_per_state": 2, "train": {"epochs": 1}}}}


@pytest.fixture(scope="module")
def data():
    system = stage.build_system({"kind": "canonical", "n": 2, "rho": 0.9, "noise_ratio_db": 0.0, "r2": 1.0}, None)
    return stage.simulate_splits(system, np.random.default_rng(0), DATA)


def _kalman_network(data: xr.Dataset, hidden_per_state: int = 1) -> torch.nn.Module:
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
    model = stage.build_network("linear", data, {"hidden_per_state": hidden_per_state},
                                torch.Generator().manual_seed(0), dtype=torch.float64)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(torch.as_tensor(W))
        model.rnn.weight_ih_l0.copy_(torch.as_tensor(U))
        model.output_layer.weight.copy_(torch.as_tensor(C))
    return model


def _store(model: torch.nn.Module, val_loss: float = 1.0) -> xr.Dataset:
    history = xr.Dataset({"val_loss": ("epoch", [val_loss])}, coords={"epoch": [1]})
    return xr.merge([model_parameters(model), history]).assign_attrs(status="completed")


def test_splits_store_the_system_and_have_the_requested_shapes(data):
    assert data["y_train"].shape == (4, 21, 2) and data["y_test"].shape == (16, 301, 2)
    system = stage.system_of(data)
    np.testing.assert_array_equal(system.A, 0.9 * np.array([[1.0, 1.0], [0.0, 1.0]]))
    inputs, targets = stage.training_pairs(data, "train")
    # Targets are the inputs shifted by one step, both divided by the per-output scale.
    np.testing.assert_allclose(targets[:, :-1].numpy(), inputs[:, 1:].numpy())
    np.testing.assert_allclose(inputs[0, 0].numpy(), data["y_train"].values[0, 0] / data["scale"].values, rtol=1e-6)


def test_parameters_round_trip_through_a_dataset(data):
    model = stage.build_network("vanilla", data, {"hidden_per_state": 2}, torch.Generator().manual_seed(1))
    copy = stage.build_network("vanilla", data, {"hidden_per_state": 2}, torch.Generator().manual_seed(2))
    load_model_parameters(copy, model_parameters(model))
    for (name, a), (_, b) in zip(model.state_dict().items(), copy.state_dict().items()):
        assert torch.equal(a, b), name


def test_balanced_truncation_removes_modes_that_do_not_reach_the_output():
    rng = np.random.default_rng(3)
    W1 = np.array([[0.5, 0.2], [-0.3, 0.4]])
    U1, C1 = rng.standard_normal((2, 1)), rng.standard_normal((1, 2))
    # Two extra states: one unobservable (C = 0 there), one uncontrollable (U = 0 there).
    W = np.block([[W1, np.zeros((2, 2))], [np.zeros((2, 2)), np.diag([0.9, -0.8])]])
    U = np.vstack([U1, [[1.0], [0.0]]])
    C = np.hstack([C1, [[0.0, 1.0]]])
    W_reduced, hankel = stage.balanced_truncation(W, U, C, 2)
    # The extra modes have Hankel singular value 0 exactly; the rest is a similarity transform,
    # so the eigenvalues agree to round-off of the Gramian solves.
    np.testing.assert_allclose(hankel[2:], 0.0, atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(W_reduced)),
                               np.sort_complex(np.linalg.eigvals(W1)), atol=1e-10)


def test_markov_parameters_are_matrix_powers():
    rng = np.random.default_rng(4)
    W, U, C = rng.standard_normal((3, 3)) / 3, rng.standard_normal((3, 2)), rng.standard_normal((2, 3))
    markov = stage.markov_parameters(W, U, C, 5)
    for k in range(5):
        np.testing.assert_allclose(markov[k], C @ np.linalg.matrix_power(W, k) @ U, rtol=1e-12, atol=1e-14)


def test_linearisation_of_a_tanh_network_without_bias_is_the_network_itself(data):
    model = stage.build_network("vanilla", data, {"hidden_per_state": 2}, torch.Generator().manual_seed(5),
                                dtype=torch.float64)
    W, U, C, residual = stage.linearised_recurrence(model)
    # Biases start at 0, so h* = 0 and tanh'(0) = 1.
    assert residual == 0.0
    np.testing.assert_array_equal(W, model.recurrent_weight.detach().numpy())
    np.testing.assert_array_equal(U, model.input_weight.detach().numpy())


@pytest.mark.parametrize("hidden_per_state", [1, 2])
def test_the_kalman_predictor_as_a_network_has_zero_gap_and_its_eigenvalues(data, hidden_per_state):
    model = _kalman_network(data, hidden_per_state)
    ds = stage.analyse({"sys": data}, [("sys", "linear", 0, _store(model))],
                       {**CFG, "models": {"linear": {"hidden_per_state": hidden_per_state, "train": {}}}})
    run = ds.sel(system="sys", model="linear", seed=0)
    # Same predictor in float64 through a rescaling and back: identical to ~1e-15 relative.
    assert abs(float(run["gap_db"])) < 1e-9
    assert float(run["impulse_error"]) < 1e-12
    # Balanced truncation drops the decoupled unit exactly (zero Hankel singular value).
    assert float(run["eigenvalue_error"]) < 1e-8
    claims = {c.id: c for c in stage.claims(ds)}
    assert claims["kalman/gap_db/sys"].passed
    assert claims["kalman/eigenvalue_max_error/sys"].passed


def test_kalman_mse_matches_the_floor_and_claims_can_fail(data):
    model = _kalman_network(data)
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(0.5)  # a detuned filter
    ds = stage.analyse({"sys": data}, [("sys", "linear", 0, _store(model))], CFG)
    claims = {c.id: c for c in stage.claims(ds)}
    # 16 sequences x 270 steps: the MSE estimate is within 3 standard errors of the analytic floor.
    assert claims["kalman/kf_mse_vs_floor/sys"].passed
    assert float(ds["mse_tv"].sel(system="sys")) == pytest.approx(float(ds["mse_kf"].sel(system="sys")), rel=1e-6)
    assert not claims["kalman/eigenvalue_max_error/sys"].passed
    assert float(ds["gap_db"].sel(system="sys", model="linear", seed=0)) > 0


def test_best_seed_ranks_a_diverged_run_last():
    runs = xr.Dataset({"val_loss": ("seed", [np.nan, 0.3, 0.2, np.inf])}, coords={"seed": [0, 1, 2, 3]})
    assert int(best_seed(runs)["seed"]) == 2
    diverged = xr.Dataset({"val_loss": ("seed", [np.nan, np.nan])}, coords={"seed": [0, 1]})
    assert int(best_seed(diverged)["seed"]) == 0  # reported (and its claim fails), never dropped


def test_a_training_job_stores_its_network_resumes_after_preemption_and_drops_its_checkpoint(data, tmp_path, monkeypatch, caplog):
    data_path = tmp_path / "data.zarr"
    write_dataset(data, data_path, provenance=provenance(rule="kalman_data", config={}, seed=0))
    network_cfg = {"hidden_per_state": 1, "train": {"epochs": 3, "batch_size": 2, "lr": 0.01}}
    job = {"keys": ("kalman", "sys", "linear", "0"), "base_seed": 5, "device": "cpu", "rule": "train_kalman",
           "log": logging.getLogger("test")}
    checkpoint = tmp_path / "checkpoints" / "seed0.pt"

    train_and_store(stage.train_network, data_path, "linear", network_cfg, checkpoint=checkpoint,
                    output=tmp_path / "whole.zarr", **job)
    assert not checkpoint.exists()
    whole = read_dataset(tmp_path / "whole.zarr")
    assert whole.attrs["status"] == "completed" and whole.attrs["epochs_run"] == 3
    assert read_provenance(tmp_path / "whole.zarr")["seed"] == {
        key: derive_seed(5, "kalman", "sys", "linear", "0", key) for key in ("init", "batches")}

    # A job preempted after epoch 1 leaves its checkpoint; the next attempt ends where one run does.
    def preempt(epoch, record):
        if epoch == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    with monkeypatch.context() as patch:
        patch.setattr(stage, "train", functools.partial(train, callback=preempt))
        with pytest.raises(TrainingInterrupted) as interrupted:
            train_and_store(stage.train_network, data_path, "linear", network_cfg, checkpoint=checkpoint,
                            output=tmp_path / "resumed.zarr", **job)
    assert interrupted.value.code == 75 and interrupted.value.epoch == 1
    assert checkpoint.exists() and not (tmp_path / "resumed.zarr").exists()
    with caplog.at_level(logging.INFO, logger="test"):
        train_and_store(stage.train_network, data_path, "linear", network_cfg, checkpoint=checkpoint,
                        output=tmp_path / "resumed.zarr", **job)
    assert f"resumed from {checkpoint} after epoch 1" in caplog.text
    assert array_digest(read_dataset(tmp_path / "resumed.zarr")) == array_digest(whole)
