"""The workflow's own code style: the Snakefile and rule files are as snakefmt writes them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SNAKEFMT = Path(sys.executable).parent / "snakefmt"  # the pinned one, beside this interpreter


def test_snakefile_and_rules_are_formatted_by_snakefmt():
    # Run from the repository root so snakefmt reads [tool.snakefmt] (line length) from pyproject.toml.
    proc = subprocess.run([str(SNAKEFMT), "--check", "--compact-diff", "Snakefile", "workflow/"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (
        "rule files are not formatted; run `.venv/bin/snakefmt Snakefile workflow/` (diff below)\n"
        f"{proc.stdout}\n{proc.stderr}"
    )
