"""Seeds: derived deterministically from the base seed and the job's keys, with no global side effects."""

from __future__ import annotations

import numpy as np
import torch

from rnndyn.seeding import derive_seed, numpy_generator, torch_generator


def test_derived_seed_is_stable_across_processes_and_platforms():
    # SHA-256 based, so this value is fixed forever; a change here changes every result of the study.
    assert derive_seed(20261129, "lorenz", "gru", 0) == derive_seed(20261129, "lorenz", "gru", 0)
    assert derive_seed(1, "a") == 5507745406870226960


def test_different_keys_give_different_streams():
    seeds = {derive_seed(0, stage, arch, rep) for stage in ("a", "b") for arch in ("gru", "lstm") for rep in range(5)}
    assert len(seeds) == 20
    assert derive_seed(0, "a", "b") != derive_seed(0, "ab")  # keys are not simply concatenated
    assert all(0 <= s < 2**63 for s in seeds)


def test_generators_reproduce_their_draws():
    assert np.array_equal(numpy_generator(5, "x").random(4), numpy_generator(5, "x").random(4))
    assert not np.array_equal(numpy_generator(5, "x").random(4), numpy_generator(5, "y").random(4))
    t1 = torch.randn(4, generator=torch_generator(5, "x"))
    t2 = torch.randn(4, generator=torch_generator(5, "x"))
    assert torch.equal(t1, t2)


def test_no_global_random_state_is_touched():
    np_state = np.random.get_state()[1].copy()
    torch_state = torch.random.get_rng_state().clone()
    numpy_generator(3, "k").random(10)
    torch.rand(3, generator=torch_generator(3, "k"))
    assert np.array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
