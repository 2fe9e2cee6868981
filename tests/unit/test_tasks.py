"""Flip-flop and copy tasks."""

import math

import numpy as np
import pytest

from rnndyn.systems.tasks import copy_task, copy_task_baseline_cross_entropy, flip_flop


def test_flip_flop_targets_hold_the_last_pulse():
    inputs, targets = flip_flop(np.random.default_rng(0), n_trials=50, n_steps=100, pulse_prob=0.05)
    assert inputs.shape == targets.shape == (50, 100, 3)
    assert set(np.unique(inputs)) <= {-1.0, 0.0, 1.0}
    # Every trial opens with a pulse on every channel, so targets are always +-1 corners.
    assert np.all(inputs[:, 0] != 0)
    assert set(np.unique(targets)) == {-1.0, 1.0}
    # Reference by an explicit loop: hold the last non-zero input.
    held = np.zeros_like(targets)
    for t in range(100):
        held[:, t] = np.where(inputs[:, t] != 0, inputs[:, t], held[:, t - 1] if t else 0.0)
    np.testing.assert_array_equal(targets, held)


def test_flip_flop_pulse_rate_and_seeding():
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    inputs, _ = flip_flop(rng_a, n_trials=200, n_steps=500, n_bits=2, pulse_prob=0.1)
    again, _ = flip_flop(rng_b, n_trials=200, n_steps=500, n_bits=2, pulse_prob=0.1)
    np.testing.assert_array_equal(inputs, again)
    rate = np.mean(inputs[:, 1:] != 0)
    # Binomial over 200 * 499 * 2 = 199,600 draws: standard error 6.7e-4; allow 5 of them.
    assert rate == pytest.approx(0.1, abs=5 * math.sqrt(0.1 * 0.9 / 199_600))
    # Signs are fair: +1 fraction among pulses within 5 standard errors of 1/2.
    pulses = inputs[inputs != 0]
    assert np.mean(pulses > 0) == pytest.approx(0.5, abs=5 * 0.5 / math.sqrt(pulses.size))


def test_copy_task_layout():
    delay, length, n_symbols = 7, 10, 8
    inputs, targets = copy_task(np.random.default_rng(2), n_trials=4, delay=delay)
    T = delay + 2 * length
    assert inputs.shape == (4, T, n_symbols + 2) and targets.shape == (4, T)
    np.testing.assert_array_equal(inputs.sum(axis=-1), 1.0)  # one-hot
    classes = inputs.argmax(axis=-1)
    blank, delimiter = n_symbols, n_symbols + 1
    sequence = classes[:, :length]
    assert np.all(sequence < n_symbols)
    np.testing.assert_array_equal(classes[:, length : length + delay - 1], blank)
    np.testing.assert_array_equal(classes[:, length + delay - 1], delimiter)
    np.testing.assert_array_equal(classes[:, length + delay :], blank)
    np.testing.assert_array_equal(targets[:, : delay + length], blank)
    np.testing.assert_array_equal(targets[:, delay + length :], sequence)
    assert targets.dtype == np.int64


@pytest.mark.parametrize("delay", [1, 10, 100])
def test_memoryless_baseline_cross_entropy(delay):
    _, targets = copy_task(np.random.default_rng(3), n_trials=16, delay=delay)
    n_steps, n_classes = targets.shape[1], 9
    # Memoryless strategy: blank with certainty for the first delay + 10 steps, then uniform over
    # the 8 symbols (and no mass on blank).
    probabilities = np.zeros((n_steps, n_classes))
    probabilities[: delay + 10, 8] = 1.0
    probabilities[delay + 10 :, :8] = 1.0 / 8
    cross_entropy = -np.log(probabilities[np.arange(n_steps), targets]).mean()
    # Every term is exactly 0 or ln 8, so the mean is exact up to summation round-off.
    assert cross_entropy == pytest.approx(10 * math.log(8) / (delay + 20), rel=1e-14)
    assert copy_task_baseline_cross_entropy(delay) == pytest.approx(cross_entropy, rel=1e-14)


def test_copy_task_rejects_zero_delay():
    with pytest.raises(ValueError):
        copy_task(np.random.default_rng(4), n_trials=1, delay=0)
