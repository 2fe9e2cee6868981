"""Seeds derived from the config's base seed and a job's wildcards.

Every random draw of the study comes from a generator built here, so the same config and the
same wildcards give the same arrays, and two jobs never share a stream by accident. Nothing in
this module touches global random state.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import torch

_SEED_BITS = 63  # torch.Generator.manual_seed takes a signed 64-bit integer


def derive_seed(base_seed: int, *keys: object) -> int:
    """Derive a job's seed from the base seed and the keys that identify the job.

    Parameters
    ----------
    base_seed
        The config's ``seed``.
    *keys
        Values identifying the job and the purpose of the stream (stage name, wildcards such as
        architecture or replicate index, ``"train"`` / ``"test"``). Order matters.

    Returns
    -------
    int
        A seed in [0, 2**63), stable across platforms and Python versions (SHA-256 of the
        canonical JSON of ``[base_seed, *keys]``; Python's ``hash`` is salted per process).
    """
    payload = json.dumps([int(base_seed), *[str(k) for k in keys]], separators=(",", ":"))
    digest = hashlib.sha256(payload.encode()).digest()
    return int.from_bytes(digest[:8], "little") >> (64 - _SEED_BITS)


def numpy_generator(base_seed: int, *keys: object) -> np.random.Generator:
    """A ``numpy.random.Generator`` (PCG64) seeded by :func:`derive_seed`."""
    return np.random.default_rng(derive_seed(base_seed, *keys))


def torch_generator(base_seed: int, *keys: object, device: str | torch.device = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded by :func:`derive_seed`."""
    generator = torch.Generator(device=device)
    generator.manual_seed(derive_seed(base_seed, *keys))
    return generator
