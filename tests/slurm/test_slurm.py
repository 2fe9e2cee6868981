"""The study through profiles/slurm on a real one-node SLURM cluster (started by `make test-slurm`).

The workflow runs from the repository, as a user runs it, with the profile as written; only the
account and partitions are pointed at the test cluster's and the first status check comes after
2 s instead of 40 s. Each job's accounting record must then show what the profile and the rule asked
for, and the results must equal those of a local run of the same config.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from rnndyn.store import array_digest, read_dataset
from tests.conftest import REPO, TINY_CONFIG, run_snakemake
from tests.slurm.conftest import PROFILE, cluster_names, rule_resources, slurm_profile

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(os.environ.get("RNNDYN_SLURM") != "1",
                       reason="needs the SLURM test cluster: `make test-slurm` (as root) starts it and sets RNNDYN_SLURM=1"),
]

# Bounds a run that would otherwise wait for ever (a status command that keeps failing).
RUN_TIMEOUT_S = 900
SACCT_FIELDS = ("JobIDRaw", "Comment", "State", "Partition", "Account", "ReqMem", "Timelimit", "AllocTRES")


@dataclass(frozen=True)
class SlurmRun:
    workdir: Path
    returncode: int
    log: str
    run_id: str


def _profile_overrides() -> list[str]:
    """Options that point profiles/slurm at the test cluster and leave everything else as written.

    A command-line option replaces the profile's key as a whole, so the profile's default and per-rule
    resources are passed again (as the profile spells them) with only the account and partitions changed.
    """
    names = cluster_names()
    profile = slurm_profile()
    defaults = {**profile["default-resources"], "slurm_account": repr(names["CLUSTER_ACCOUNT"]),
                "slurm_partition": repr(names["CPU_PARTITION"])}
    args = ["--profile", str(PROFILE), "--slurm-init-seconds-before-status-checks", "2",
            "--default-resources", *(f"{key}={value}" for key, value in defaults.items())]
    per_rule = []
    for rule, resources in rule_resources(profile).items():
        partition = names["GPU_PARTITION"] if resources.get("gpu") else names["CPU_PARTITION"]
        per_rule += [f"{rule}:{key}={value}" for key, value in {**resources, "slurm_partition": repr(partition)}.items()]
    return args + (["--set-resources", *per_rule] if per_rule else [])


def _run_on_slurm(workdir: Path, *args: str) -> SlurmRun:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(TINY_CONFIG), *_profile_overrides(), *args]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    log = proc.stdout + proc.stderr
    run_id = re.search(r"SLURM run ID: (\S+)", log)
    assert run_id, f"no SLURM run ID in the log:\n{log}"
    return SlurmRun(workdir, proc.returncode, log, run_id.group(1))


def _submitted_jobs(log: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, resources) of every job the run submitted to SLURM, in the order they were printed;
    `localrule` blocks ran on the submitting host."""
    blocks = re.findall(r"^(?:rule|checkpoint) (\w+):\n((?:    .*\n)+)", log, flags=re.MULTILINE)
    jobs = []
    for rule, body in blocks:
        line = re.search(r"^    resources: (.*)$", body, flags=re.MULTILINE)
        assert line, f"rule {rule} printed no resources"
        jobs.append((rule, dict(item.split("=", 1) for item in line.group(1).split(", "))))
    return jobs


def _sacct(run_id: str) -> list[dict[str, str]]:
    """The accounting records of a run's jobs (the plugin names every job after the run)."""
    proc = subprocess.run(["sacct", "-X", "--parsable2", "--noheader", "--starttime", "now-1days",
                           "--name", run_id, "--format", ",".join(SACCT_FIELDS)],
                          capture_output=True, text=True, timeout=60, check=True)
    return [dict(zip(SACCT_FIELDS, row.split("|"))) for row in proc.stdout.splitlines()]


def _rule_of(comment: str) -> str:
    """The rule in the plugin's job comment, `rule_<name>` or `rule_<name>_wildcards_<values>`."""
    match = re.fullmatch(r"rule_(\w+?)(?:_wildcards_.*)?", comment)
    assert match, comment
    return match.group(1)


def _timelimit(minutes: int) -> str:
    """A runtime in minutes as sacct prints a time limit: [days-]hours:minutes:seconds."""
    days, rest = divmod(minutes, 24 * 60)
    clock = f"{rest // 60:02d}:{rest % 60:02d}:00"
    return f"{days}-{clock}" if days else clock


@pytest.fixture(scope="module")
def cluster() -> dict[str, str]:
    proc = subprocess.run(["sinfo", "--noheader", "--format", "%T"], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0 or "idle" not in proc.stdout.split():
        pytest.fail(f"RNNDYN_SLURM=1 but no idle SLURM test cluster answers: {proc.stdout}{proc.stderr}")
    return cluster_names()


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory) -> SlurmRun:
    run = _run_on_slurm(tmp_path_factory.mktemp("slurm"))
    assert run.returncode == 0, run.log
    return run


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("local")
    run_snakemake(workdir, "--configfile", str(TINY_CONFIG))
    return workdir


def test_every_job_ran_on_slurm_with_the_resources_asked_for(slurm_run):
    submitted = _submitted_jobs(slurm_run.log)
    assert submitted, "no job was submitted"
    records = _sacct(slurm_run.run_id)
    assert Counter(_rule_of(r["Comment"]) for r in records) == Counter(rule for rule, _ in submitted)
    assert all(r["State"] == "COMPLETED" for r in records), records

    def expected(resources: dict[str, str]) -> tuple:
        gpus = int(resources.get("gpu", 0))
        return (resources["slurm_partition"], resources["slurm_account"], f"{resources['mem_mb']}M",
                _timelimit(int(resources["runtime"])), gpus)

    def observed(record: dict[str, str]) -> tuple:
        gpus = re.search(r"gres/gpu=(\d+)", record["AllocTRES"])
        return (record["Partition"], record["Account"], record["ReqMem"], record["Timelimit"],
                int(gpus.group(1)) if gpus else 0)

    for rule in {rule for rule, _ in submitted}:
        want = sorted(expected(res) for r, res in submitted if r == rule)
        got = sorted(observed(rec) for rec in records if _rule_of(rec["Comment"]) == rule)
        assert got == want, f"{rule}: sacct shows {got}, the run asked for {want}"


def test_results_equal_those_of_a_local_run(slurm_run, local_run):
    on_slurm = pd.read_csv(slurm_run.workdir / "results" / "claims.csv")
    local = pd.read_csv(local_run / "results" / "claims.csv")
    # Same code, same config, same machine: the numbers must agree to the last bit.
    pd.testing.assert_frame_equal(on_slurm, local, check_exact=True)
    stores = sorted(p.relative_to(local_run) for p in (local_run / "results").rglob("*.zarr"))
    assert stores == sorted(p.relative_to(slurm_run.workdir) for p in (slurm_run.workdir / "results").rglob("*.zarr"))
    for store in stores:
        assert array_digest(read_dataset(slurm_run.workdir / store)) == array_digest(read_dataset(local_run / store)), store


def test_a_failing_job_is_retried_then_fails_the_run(slurm_run, tmp_path):
    """A stage's claims file that is not JSON makes the claims table job exit non-zero: SLURM must
    record it FAILED at each attempt and Snakemake must resubmit it, then exit non-zero. One retry
    shows the resubmission (the profile asks for more; each costs a job and a slower status check)."""
    workdir = tmp_path / "broken"
    shutil.copytree(slurm_run.workdir, workdir, symlinks=True)
    claims_files = sorted((workdir / "results" / "claims").glob("*.json"))
    assert claims_files
    claims_files[0].write_text("{ not json")
    run = _run_on_slurm(workdir, "--forcerun", "claims_table", "--until", "claims_table", "--retries", "1")
    assert run.returncode != 0, run.log
    assert "Trying to restart job" in run.log and "Error in rule claims_table" in run.log, run.log
    records = _sacct(run.run_id)
    assert [(_rule_of(r["Comment"]), r["State"]) for r in records] == [("claims_table", "FAILED")] * 2, records
