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
                "n_newton": 8, "q_tol": 1e-12, "dedup_tol": 1e-3, "n_trials_shown": 3, "branch_step": 1e-3,
                "branch_steps": 200, "landing_fraction": 0.1}
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
    fixed, readout, states, connections = networks.find_memories(model, data, FIXED_POINTS,
                                                                 torch.Generator().manual_seed(1))
    assert states.shape == (16, 60, 3)
    # All 27 exact fixed points are found (the midpoint search reaches the saddles), to Newton's round-off.
    assert len(fixed.points) == 27
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
    # The 12 one-unstable saddles sit at the cube's edge midpoints; each unstable manifold is the zero
    # coordinate's axis, whose two branches end on the two corners one bit apart.
    assert len(connections["saddle"]) == 12
    edges = networks.connected_edges(connections["lands_on"], readout)
    assert edges["adjacent"].all() and edges["edges"] == stage.cube_edges()
    zero = np.abs(fixed.points[connections["saddle"]]) < 0.5
    np.testing.assert_allclose(np.abs(connections["direction"]), zero.astype(float), atol=1e-12)


def test_cube_edges():
    edges = stage.cube_edges()
    assert len(edges) == 12 and all(len(e) == 2 for e in edges)
    assert frozenset({(1.0, 1.0, 1.0), (-1.0, 1.0, 1.0)}) in edges
    assert frozenset({(1.0, 1.0, 1.0), (-1.0, -1.0, 1.0)}) not in edges  # two bits apart


def test_connected_edges_rejects_non_adjacent_and_unlanded_branches():
    readout = np.array([[0.9, 0.9, 0.9], [-0.9, 0.9, 0.9], [-0.9, -0.9, 0.9], [0.0, 0.0, 0.0]])
    # Saddle 0 joins codes one bit apart; saddle 1 joins codes two bits apart; saddle 2 has a branch
    # that lands nowhere; saddle 3 has both branches on the same memory.
    lands_on = np.array([[0, 1], [0, 2], [1, -1], [2, 2]])
    edges = networks.connected_edges(lands_on, readout)
    np.testing.assert_array_equal(edges["adjacent"], [True, False, False, False])
    assert edges["edges"] == {frozenset({(1.0, 1.0, 1.0), (-1.0, 1.0, 1.0)})}


def _store(model, replicate, val_loss):
    history = xr.Dataset({"loss": ("epoch", [val_loss]), "val_loss": ("epoch", [val_loss])}, coords={"epoch": [1]})
    return network_store(model, history, build=BUILD, status="completed", device="cpu",
                         identity={"stage": "flipflop", "arch": "vanilla", "replicate": replicate})


def test_analysis_and_claims_on_known_memories(data):
    # In the order the analysis gets them, an untrained replicate first: each is placed by its identity.
    runs = [_store(_network(3), 2, 0.9), _store(_three_bistable_neurons(), 0, 0.1),
            _store(_three_bistable_neurons(), 1, 0.2)]
    streams = Streams(0, "flipflop")
    ds = networks.analyse(data, runs, FIXED_POINTS, streams)
    assert set(streams.used) == {f"vanilla/{r}/fixed_points" for r in range(3)}
    assert streams.used["vanilla/0/fixed_points"] == derive_seed(0, "flipflop", "vanilla", 0, "fixed_points")
    assert ds["trajectory_pc"].shape == (1, 3, 3, 60, 3)
    best = ds.sel(arch="vanilla", replicate=0)
    assert int(best["n_stable"]) == 8 and int(best["n_codes_matched"]) == 8
    assert int(best["n_saddle_1"]) == int(best["n_connecting"]) == int(best["n_edges"]) == 12
    # Each one-unstable saddle's drawn direction is its unit eigenvector projected on the top PCs.
    saddles = best["fixed_point_n_unstable"].values == 1
    assert np.all(np.isfinite(best["fixed_point_direction_pc"].values[saddles]))
    assert np.all(np.linalg.norm(best["fixed_point_direction_pc"].values[saddles], axis=-1) <= 1 + 1e-12)
    # The hand-built network holds every bit: accuracy 1 (sign of h equals the last pulse).
    assert float(best["accuracy"]) == 1.0
    claims = {c.id: c for c in stage.claims(ds)}
    quantities = ("accuracy", "stable_fixed_points", "saddles", "saddle_connects_memories", "saddle_edges")
    assert set(claims) == {f"flipflop/{q}/vanilla" for q in quantities}
    # Two of three replicates hold the cube: every median is theirs.
    assert all(c.passed for c in claims.values())
    assert claims["flipflop/saddle_edges/vanilla"].measured == 12
    assert_labelled(claims.values(), "flipflop")
    assert {c.kind for c in claims.values()} == {"finding"}
    assert {c.figure for c in claims.values()} == {"flipflop_fixed_points"}
    connects = claims.pop("flipflop/saddle_connects_memories/vanilla")
    assert all("median of 3 replicates" in c.note for c in claims.values())
    # The untrained replicate has no one-unstable saddle, hence no fraction of them connecting.
    assert "median of 2 replicates" in connects.note and "1 replicate(s) without such saddles" in connects.note
    assert claims["flipflop/accuracy/vanilla"].criterion == "=±tol"  # accuracy <= 1: >= 0.99 is 1 +- 0.01
    assert claims["flipflop/saddles/vanilla"].criterion == ">="


def test_claims_fail_when_most_replicates_hold_no_memories(data):
    runs = [_store(_network(3), 0, 0.9), _store(_network(4), 1, 0.8), _store(_three_bistable_neurons(), 2, 0.1)]
    ds = networks.analyse(data, runs, FIXED_POINTS, Streams(0, "flipflop"))
    claims = {c.id: c for c in stage.claims(ds)}
    # Untrained networks (default initialisation) do not hold 8 memories nor saddles between them.
    for quantity in ("accuracy", "stable_fixed_points", "saddle_edges"):
        assert not claims[f"flipflop/{quantity}/vanilla"].passed, quantity


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
