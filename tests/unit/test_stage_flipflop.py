"""The flip-flop stage (claim `flipflop`): data, the training job, fixed points of a network with
known memories, analysis and claims."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import xarray as xr
from scipy.optimize import brentq

from rnndyn.jobs import run
from rnndyn.models import build_model
from rnndyn.models.trained import network_identity, network_store
from rnndyn.seeding import Streams, derive_seed
from rnndyn.stages import flipflop as stage
from rnndyn.stages import flipflop_networks as networks
from rnndyn.store import read_dataset, read_provenance, write_dataset
from tests.unit.claim_labels import assert_labelled

DATA = {"n_train": 4, "n_val": 4, "n_test": 16, "n_steps": 60, "pulse_prob": 0.05}
FIXED_POINTS = {"n_initial_states": 256, "noise_std": 0.3, "n_iter": 500, "lr": 0.01, "q_tol_coarse": 1e-6,
                "n_newton": 8, "q_tol": 1e-12, "dedup_tol": 1e-3, "n_trials_shown": 3}
BUILD = {"arch": "vanilla", "input_size": 3, "hidden_size": 3, "output_size": 3}
# The bistable neuron tanh(2 h) = h: its non-zero fixed points +-h*.
H_STAR = brentq(lambda h: np.tanh(2.0 * h) - h, 0.5, 1.0, xtol=1e-15)


@pytest.fixture(scope="module")
def data():
    return stage.task_data(np.random.default_rng(0), DATA)


def _three_bistable_neurons() -> torch.nn.Module:
    """h <- tanh(2 h + 2 x), y = h: three uncoupled bistable units, one per bit. Under zero input
    its fixed points are the 27 points with coordinates in {-h*, 0, h*}: the 8 corners are stable
    and read out their own code; the others have unstable directions."""
    model = _network(0)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(2.0 * torch.eye(3))
        model.rnn.weight_ih_l0.copy_(2.0 * torch.eye(3))
        model.output_layer.weight.copy_(torch.eye(3))
        model.output_layer.bias.zero_()
    return model


def _network(seed: int) -> torch.nn.Module:
    sizes = {k: v for k, v in BUILD.items() if k != "arch"}
    return build_model("vanilla", generator=torch.Generator().manual_seed(seed), dtype=torch.float64, **sizes)


def test_task_data_targets_hold_the_last_pulse(data):
    inputs, targets = data["inputs_test"].values, data["targets_test"].values
    assert inputs.shape == targets.shape == (16, 60, 3)
    np.testing.assert_array_equal(targets[:, 0], inputs[:, 0])  # every channel pulses at t = 0
    pulsed = inputs != 0
    np.testing.assert_array_equal(targets[pulsed], inputs[pulsed])
    held = ~pulsed[:, 1:]
    np.testing.assert_array_equal(targets[:, 1:][held], targets[:, :-1][held])


def test_memory_codes_count_each_corner():
    readout = np.array([[0.9, 0.9, 0.9], [-0.9, 0.9, 0.9], [0.8, 0.9, 0.9], [0.0, 0.1, -0.1]])
    codes = stage.memory_codes(readout, np.array([True, True, True, False]))
    index = {tuple(c): i for i, c in enumerate(stage.all_codes())}
    assert codes["count"][index[(1.0, 1.0, 1.0)]] == 2 and codes["count"][index[(-1.0, 1.0, 1.0)]] == 1
    assert codes["n_matched"] == 1  # the doubly stored code does not count
    assert codes["max_deviation"] == pytest.approx(0.2)


def test_fixed_points_of_three_bistable_neurons(data):
    model = _three_bistable_neurons()
    fixed, readout, states = networks.find_memories(model, data, FIXED_POINTS, torch.Generator().manual_seed(1))
    assert states.shape == (16, 60, 3)
    # Every point found is one of the 27 exact fixed points (Newton to round-off).
    nearest = np.array([-H_STAR, 0.0, H_STAR])
    distance = np.abs(fixed.points[..., None] - nearest).min(axis=-1)
    assert distance.max() < 1e-12
    corners = np.all(np.abs(fixed.points) > 0.5, axis=1)
    np.testing.assert_array_equal(fixed.is_stable, corners)
    codes = stage.memory_codes(readout, fixed.is_stable)
    assert codes["n_matched"] == 8 and fixed.is_stable.sum() == 8
    assert codes["max_deviation"] == pytest.approx(1.0 - H_STAR, abs=1e-12)
    # The unstable directions are the coordinates at 0 (multiplier tanh'(0) * 2 = 2 > 1).
    np.testing.assert_array_equal(fixed.n_unstable, np.sum(np.abs(fixed.points) < 0.5, axis=1))


def _store(model, replicate, val_loss):
    history = xr.Dataset({"loss": ("epoch", [val_loss]), "val_loss": ("epoch", [val_loss])}, coords={"epoch": [1]})
    return network_store(model, history, build=BUILD, status="completed", device="cpu",
                         identity={"stage": "flipflop", "arch": "vanilla", "replicate": replicate})


def test_analysis_and_claims_on_known_memories(data):
    # In the order the analysis gets them, the untrained replicate first: each is placed by its identity.
    runs = [_store(_network(3), 1, 0.9), _store(_three_bistable_neurons(), 0, 0.1)]
    streams = Streams(0, "flipflop")
    ds = networks.analyse(data, runs, FIXED_POINTS, streams)
    assert set(streams.used) == {"vanilla/0/fixed_points", "vanilla/1/fixed_points"}
    assert streams.used["vanilla/0/fixed_points"] == derive_seed(0, "flipflop", "vanilla", 0, "fixed_points")
    assert ds["trajectory_pc"].shape == (1, 2, 3, 60, 3)
    best = ds.sel(arch="vanilla", replicate=0)
    assert int(best["n_stable"]) == 8 and int(best["n_codes_matched"]) == 8
    # The hand-built network holds every bit: accuracy 1 (sign of h equals the last pulse).
    assert float(best["accuracy"]) == 1.0
    claims = {c.id: c for c in stage.claims(ds)}
    assert claims["flipflop/accuracy/vanilla"].passed
    assert claims["flipflop/stable_fixed_points/vanilla"].passed
    assert claims["flipflop/stable_fixed_points/vanilla/replicate=0"].passed
    assert not claims["flipflop/stable_fixed_points/vanilla/replicate=1"].passed  # untrained: no 8 memories
    assert_labelled(claims.values(), "flipflop")
    assert {c.kind for c in claims.values()} == {"finding"}
    assert claims["flipflop/accuracy/vanilla"].criterion == "=±tol"  # accuracy <= 1: >= 0.99 is 1 +- 0.01
    assert {c.criterion for i, c in claims.items() if "stable_fixed_points" in i} == {"="}
    # The figure shows the lowest-validation-loss replicate (0) only.
    assert claims["flipflop/stable_fixed_points/vanilla/replicate=0"].figure == "flipflop_fixed_points"
    assert claims["flipflop/stable_fixed_points/vanilla/replicate=1"].figure == ""


def test_the_training_job_stores_its_network_with_its_identity(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_dataset(data, "data.zarr", provenance={"rule": "flipflop_data"})
    output = "results/flipflop/models/gru/rep1.zarr"
    snakemake = SimpleNamespace(
        rule="flipflop_train", threads=1, log=["train.log"], wildcards={"arch": "gru", "replicate": "1"},
        params=SimpleNamespace(cfg={"hidden_size": 4, "train": {"epochs": 2, "batch_size": 4}}, seed=3, device="cpu"),
        input=["data.zarr"], output=[output])
    run(snakemake, networks.train_job)
    store = read_dataset(output)
    assert network_identity(store) == {"stage": "flipflop", "arch": "gru", "replicate": 1}
    assert store.attrs["build"] == {"arch": "gru", "input_size": 3, "hidden_size": 4, "output_size": 3}
    assert store.attrs["status"] == "completed" and store.sizes["epoch"] == 2
    assert read_provenance(output)["randomness"]["streams"] == {
        key: derive_seed(3, "flipflop", "gru", "1", key) for key in ("init", "batches")}
    assert not Path("results/checkpoints/flipflop/models/gru/rep1").exists()
