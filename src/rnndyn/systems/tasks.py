"""Memory tasks for recurrent networks: the n-bit flip-flop and the copy task."""

from __future__ import annotations

import math

import numpy as np


def flip_flop(
    rng: np.random.Generator,
    *,
    n_trials: int,
    n_steps: int,
    n_bits: int = 3,
    pulse_prob: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The n-bit flip-flop task (Sussillo & Barak 2013, Neural Comput. 25:626).

    Each input channel receives sparse pulses of +1 or -1; the matching output must hold the sign
    of the most recent pulse on its channel until the next one. Every trial starts with a pulse on
    every channel (random signs), so the target is always one of the 2^n_bits corners
    (+-1, ..., +-1): a trained network needs exactly 2^n_bits memories, the stable fixed points the
    study looks for, and no "no pulse yet" state.

    Parameters
    ----------
    rng
        Source of randomness.
    n_trials
        N, number of trials.
    n_steps
        T, steps per trial.
    n_bits
        Number of independent channels (3 in the study).
    pulse_prob
        Probability of a pulse per channel per step after the first step.

    Returns
    -------
    inputs : numpy.ndarray
        (N, T, n_bits) values in {-1, 0, +1}, float64.
    targets : numpy.ndarray
        (N, T, n_bits) values in {-1, +1}, float64: the last pulse up to and including step t.
    """
    shape = (n_trials, n_steps, n_bits)
    pulse = rng.random(shape) < pulse_prob
    pulse[:, 0, :] = True
    signs = rng.choice(np.array([-1.0, 1.0]), size=shape)
    inputs = np.where(pulse, signs, 0.0)
    steps = np.arange(n_steps)[None, :, None]
    last_pulse = np.maximum.accumulate(np.where(pulse, steps, 0), axis=1)
    targets = np.take_along_axis(inputs, last_pulse, axis=1)
    return inputs, targets


def copy_task(
    rng: np.random.Generator,
    *,
    n_trials: int,
    delay: int,
    n_symbols: int = 8,
    length: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """The copy task (Hochreiter & Schmidhuber 1997; in the form of Arjovsky, Shah & Bengio 2016).

    Classes: symbols 0 .. n_symbols - 1, blank = n_symbols, delimiter = n_symbols + 1. A trial of
    L + 2 * length steps (L = ``delay``) has as input ``length`` random symbols, L - 1 blanks, the
    delimiter, and ``length`` blanks; the target is blank for the first L + length steps and then
    the ``length`` input symbols in order. The delimiter is never a target, so the output layer
    needs n_symbols + 1 classes.

    Parameters
    ----------
    rng
        Source of randomness.
    n_trials
        N, number of trials.
    delay
        L >= 1, steps from the end of the sequence to the delimiter, inclusive.
    n_symbols
        Alphabet size (8 in Arjovsky et al.).
    length
        Length of the sequence to copy (10 in Arjovsky et al.).

    Returns
    -------
    inputs : numpy.ndarray
        (N, T, n_symbols + 2) one-hot, float64, T = delay + 2 * length.
    targets : numpy.ndarray
        (N, T) class indices, int64.
    """
    if delay < 1:
        raise ValueError("delay must be at least 1 (the delimiter step)")
    blank, delimiter = n_symbols, n_symbols + 1
    n_steps = delay + 2 * length
    sequence = rng.integers(0, n_symbols, size=(n_trials, length))
    input_classes = np.full((n_trials, n_steps), blank, dtype=np.int64)
    input_classes[:, :length] = sequence
    input_classes[:, length + delay - 1] = delimiter
    targets = np.full((n_trials, n_steps), blank, dtype=np.int64)
    targets[:, -length:] = sequence
    inputs = np.eye(n_symbols + 2)[input_classes]
    return inputs, targets


def copy_task_baseline_cross_entropy(delay: int, *, n_symbols: int = 8, length: int = 10) -> float:
    """Mean cross-entropy (nats per step) of the best memoryless strategy on :func:`copy_task`.

    Output blank with certainty for the first delay + length steps and a uniform guess over the
    symbols for the last ``length``: length * ln(n_symbols) / (delay + 2 * length), i.e.
    10 ln 8 / (L + 20) for the standard task (Arjovsky et al. 2016). A network that beats it
    remembers something.
    """
    return length * math.log(n_symbols) / (delay + 2 * length)
