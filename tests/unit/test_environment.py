"""The environment: exact pins, the conda file agrees with them, fragile imports work."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml

from tests.conftest import REPO


def _pins() -> list[str]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]


def test_every_dependency_is_pinned_exactly():
    for requirement in _pins():
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][0-9A-Za-z.]*", requirement), requirement
    assert "torch==2.13.0" in _pins()


def test_conda_environment_matches_the_pip_pins():
    env = yaml.safe_load((REPO / "envs" / "rnndyn.yaml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(pip_section) == sorted(_pins())
    assert "python=3.11" in env["dependencies"]


def test_lock_file_agrees_with_the_direct_pins():
    lock = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[name.lower().replace("_", "-")] = version
    for requirement in _pins():
        name, version = requirement.split("==")
        assert lock[name.lower().replace("_", "-")] == version, requirement


def test_nolds_imports_in_a_fresh_interpreter():
    # nolds 0.6.3 fails at import on Python 3.11 and 0.6.2 needs pkg_resources (setuptools < 81).
    proc = subprocess.run([sys.executable, "-c", "import nolds; print(nolds.__version__ if hasattr(nolds, '__version__') else 'ok')"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
