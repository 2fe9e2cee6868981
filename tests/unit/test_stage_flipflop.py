"""The flip-flop stage (claim `flipflop`): data, Newton refinement, fixed points of a network with
known memories, analysis and claims."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr
from scipy.optimize import brentq

from rnndyn.stages import flipflop as stage
from rnndyn.models.parameters import model_parameters

DATA = {"n_train": 4, "n_val": 4, "n_test": 16, "n_steps": 60, "pulse_prob": 0.05}
FIXED_POINTS = {"n_initial_states": 256, "noise_std": 0.3, "n_iter": 500, "lr": 0.01, "q_tol_coarse": 1e-6,
                "n_newton": 8, "q_tol": 1e-12, "dedup_tol": 1e-3, "n_trials_shown": 3}
CFG = {"models": {"vanilla": {"hidden_size": 3, "train": {"epochs": 1}}}, "fixed_points": FIXED_POINTS}
# The bistable neuron tanh(2 h) = h: its non-zero fixed points +-h*.
H_STAR = brentq(lambda h: np.tanh(2.0 * h) - h, 0.5, 1.0, xtol=1e-15)


@pytest.fixture(scope="module")
def data():
    return stage.task_data(np.random.default_rng(0), DATA)


def _three_bistable_neurons() -> torch.nn.Module:
    """h <- tanh(2 h + 2 x), y = h: three uncoupled bistable units, one per bit. Under zero input
    its fixed points are the 27 points with coordinates in {-h*, 0, h*}: the 8 corners are stable
    and read out their own code; the others have unstable directions."""
    model = stage.build_network("vanilla", {"hidden_size": 3}, torch.Generator().manual_seed(0), dtype=torch.float64)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(2.0 * torch.eye(3))
        model.rnn.weight_ih_l0.copy_(2.0 * torch.eye(3))
        model.output_layer.weight.copy_(torch.eye(3))
        model.output_layer.bias.zero_()
    return model


def test_task_data_targets_hold_the_last_pulse(data):
    inputs, targets = data["inputs_test"].values, data["targets_test"].values
    assert inputs.shape == targets.shape == (16, 60, 3)
    np.testing.assert_array_equal(targets[:, 0], inputs[:, 0])  # every channel pulses at t = 0
    pulsed = inputs != 0
    np.testing.assert_array_equal(targets[pulsed], inputs[pulsed])
    held = ~pulsed[:, 1:]
    np.testing.assert_array_equal(targets[:, 1:][held], targets[:, :-1][held])


def test_newton_polish_converges_quadratically_on_a_known_map():
    def F(h):
        return torch.tanh(2.0 * h)

    start = torch.tensor([[0.9, -0.8], [0.05, 1.1]], dtype=torch.float64)
    polished = stage.newton_polish(F, start, 8)
    expected = np.array([[H_STAR, -H_STAR], [0.0, H_STAR]])
    # Eight Newton steps from within 0.15 of a simple root: converged to float64 round-off.
    np.testing.assert_allclose(polished.numpy(), expected, atol=1e-14)


def test_memory_codes_count_each_corner():
    readout = np.array([[0.9, 0.9, 0.9], [-0.9, 0.9, 0.9], [0.8, 0.9, 0.9], [0.0, 0.1, -0.1]])
    codes = stage.memory_codes(readout, np.array([True, True, True, False]))
    index = {tuple(c): i for i, c in enumerate(stage.all_codes())}
    assert codes["count"][index[(1.0, 1.0, 1.0)]] == 2 and codes["count"][index[(-1.0, 1.0, 1.0)]] == 1
    assert codes["n_matched"] == 1  # the doubly stored code does not count
    assert codes["max_deviation"] == pytest.approx(0.2)


def test_fixed_points_of_three_bistable_neurons(data):
    model = _three_bistable_neurons()
    fixed, readout, states = stage.find_memories(model, data, FIXED_POINTS, torch.Generator().manual_seed(1))
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


def _store(model, val_loss):
    history = xr.Dataset({"val_loss": ("epoch", [val_loss])}, coords={"epoch": [1]})
    return xr.merge([model_parameters(model), history]).assign_attrs(status="completed")


def test_analysis_and_claims_on_known_memories(data):
    model = _three_bistable_neurons()
    untrained = stage.build_network("vanilla", {"hidden_size": 3}, torch.Generator().manual_seed(3))
    runs = [("vanilla", 0, _store(model, 0.1)), ("vanilla", 1, _store(untrained, 0.9))]
    ds = stage.analyse(data, runs, CFG, base_seed=0)
    assert ds["trajectory_pc"].shape == (1, 2, 3, 60, 3)
    best = ds.sel(arch="vanilla", seed=0)
    assert int(best["n_stable"]) == 8 and int(best["n_codes_matched"]) == 8
    # The hand-built network holds every bit: accuracy 1 (sign of h equals the last pulse).
    assert float(best["accuracy"]) == 1.0
    claims = {c.id: c for c in stage.claims(ds)}
    assert claims["flipflop/accuracy/vanilla"].passed
    assert claims["flipflop/stable_fixed_points/vanilla"].passed
    assert claims["flipflop/stable_fixed_points/vanilla/seed=0"].passed
    assert not claims["flipflop/stable_fixed_points/vanilla/seed=1"].passed  # untrained: no 8 memories
