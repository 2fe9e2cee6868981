"""What the SLURM tests share: the slurm profile as written, and the test cluster's names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

PROFILE = REPO / "profiles" / "slurm"
CLUSTER_ENV = Path(__file__).with_name("cluster.env")


def slurm_profile() -> dict[str, Any]:
    """profiles/slurm/config.yaml as a mapping."""
    return yaml.safe_load((PROFILE / "config.yaml").read_text())


def rule_resources(profile: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The profile's per-rule resources (``set-resources``), empty when it sets none."""
    return profile.get("set-resources") or {}


def cluster_names() -> dict[str, str]:
    """The test cluster's names (cluster, account, partitions) from cluster.env, which cluster.sh sources."""
    pairs = (line.split("=", 1) for line in CLUSTER_ENV.read_text().splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}
