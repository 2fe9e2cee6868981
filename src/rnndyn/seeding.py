"""Seeds derived from the config's base seed and a job's wildcards.

Every random draw of the study comes from a generator built here, so the same config and the
same wildcards give the same arrays, and two jobs never share a stream by accident. Nothing in
this module touches global random state.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported only by the jobs that draw from a torch stream
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
    import torch

    generator = torch.Generator(device=device)
    generator.manual_seed(derive_seed(base_seed, *keys))
    return generator


class Streams:
    """The random streams of one job, each recorded for the job's provenance.

    A stream for ``purpose`` is seeded by ``derive_seed(base_seed, *prefix, *purpose)``: the prefix
    identifies the job (its stage and wildcard values), the purpose the draw within it (``"init"``,
    ``"batches"``, ``("input-noise", 0)``). Library functions take a ``Streams`` rather than a seed,
    so every draw of a job is named in one place and :attr:`used` lists exactly the streams drawn.

    Parameters
    ----------
    base_seed
        The config's ``seed``.
    *prefix
        The job's identity, e.g. ``("kalman", "canonical2", "tanh", "0")``.
    """

    def __init__(self, base_seed: int, *prefix: object) -> None:
        self.base_seed = int(base_seed)
        self.prefix = tuple(prefix)
        self.used: dict[str, int] = {}
        self._part: tuple[object, ...] = ()
        self._scope = ""

    def seed(self, *purpose: object) -> int:
        """The seed of the stream ``purpose``, recorded in :attr:`used` under its keys joined by ``/``."""
        seed = derive_seed(self.base_seed, *self.prefix, *self._part, *purpose)
        key = "/".join(map(str, (*self._part, *purpose)))
        self.used[f"{self._scope}:{key}" if self._scope else key] = seed
        return seed

    def numpy(self, *purpose: object) -> np.random.Generator:
        """A ``numpy.random.Generator`` (PCG64) for ``purpose``."""
        return np.random.default_rng(self.seed(*purpose))

    def torch(self, *purpose: object, device: str | torch.device = "cpu") -> torch.Generator:
        """A ``torch.Generator`` on ``device`` for ``purpose``."""
        import torch

        generator = torch.Generator(device=device)
        generator.manual_seed(self.seed(*purpose))
        return generator

    def child(self, *keys: object) -> Streams:
        """The streams of a part of the job (e.g. one run of several it analyses), sharing :attr:`used`."""
        child = Streams(self.base_seed, *self.prefix)
        child._part, child._scope, child.used = (*self._part, *keys), self._scope, self.used
        return child

    def shared(self, *keys: object) -> Streams:
        """Streams keyed ``(stage, *keys)`` instead of by the job's wildcards, sharing :attr:`used`.

        For draws that several jobs of a stage must share (the same task trials for every
        architecture); they are recorded under their full key, marked ``stage:`` (e.g.
        ``"taming:copy/5/0/train"``), so that provenance does not attribute them to the job's prefix.
        """
        other = Streams(self.base_seed, self.prefix[0])
        other._part, other._scope, other.used = tuple(keys), str(self.prefix[0]), self.used
        return other

    def provenance(self) -> dict[str, object]:
        """What the provenance of the job's stores records of its randomness."""
        return {"base_seed": self.base_seed, "prefix": [str(k) for k in self.prefix], "streams": dict(self.used)}
