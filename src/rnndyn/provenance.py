"""Provenance attributes written into every store: what made it, from which config, when."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# The packages whose versions can change a stored number.
_PACKAGES = ("rnndyn", "numpy", "scipy", "xarray", "zarr", "torch", "nolds", "ripser", "persim")


def config_hash(config: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of a config (or a section of it)."""
    payload = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that bear on the stored numbers, plus Python's."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit(path: str | Path = Path(__file__).resolve().parent) -> str:
    """The commit of the code at ``path`` (default: this package's source), ``-dirty`` if changed, or ``"unknown"``."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=path, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def provenance(*, rule: str, config: Any, randomness: dict[str, Any] | None, device: str = "cpu") -> dict[str, Any]:
    """The provenance attributes of one store.

    Parameters
    ----------
    rule
        The Snakemake rule (or other producer) that wrote the store.
    config
        The config the job depended on; only its hash is stored.
    randomness
        The job's random streams (:meth:`rnndyn.seeding.Streams.provenance`: base seed, the job's
        key prefix and the seed of every stream drawn), or ``None`` for a job that draws nothing.
    device
        Where the computation ran (``"cpu"``, ``"cuda:0"``).
    """
    return {
        "rule": rule,
        "config_hash": config_hash(config),
        "randomness": randomness,
        "device": device,
        "package_versions": package_versions(),
        "git_commit": git_commit(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
