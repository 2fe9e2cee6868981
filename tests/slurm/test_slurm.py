"""The study through profiles/slurm on a real one-node SLURM cluster (started by `make test-slurm`).

The workflow runs from the repository, as a user runs it, with the profile as written; only the
account and partitions are pointed at the test cluster's and the first status check comes after
2 s instead of 40 s. Each job's accounting record must then show what the profile and the rule asked
for, and the results must equal those of a local run of the same config. A training job that SLURM
preempts (requeues) half-way must resume from its checkpoint and end with the weights of an
uninterrupted run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from rnndyn.config import load_schema, validate_config
from rnndyn.store import array_digest, read_dataset
from tests.conftest import REPO, SCHEMA, TINY_CONFIG, run_snakemake
from tests.slurm.conftest import PROFILE, cluster_names, rule_resources, slurm_profile

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(os.environ.get("RNNDYN_SLURM") != "1",
                       reason="needs the SLURM test cluster: `make test-slurm` (as root) starts it and sets RNNDYN_SLURM=1"),
]

# Bounds a run that would otherwise wait for ever (a status command that keeps failing).
RUN_TIMEOUT_S = 900
SACCT_FIELDS = ("JobIDRaw", "Comment", "State", "Partition", "Account", "ReqMem", "Timelimit", "ReqCPUS", "AllocTRES")
TINY_STAGES = yaml.safe_load(TINY_CONFIG.read_text())["stages"]


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


def _slurm_command(workdir: Path, config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(config), *_profile_overrides(), *args]


def _slurm_run(workdir: Path, returncode: int, log: str) -> SlurmRun:
    run_id = re.search(r"SLURM run ID: (\S+)", log)
    assert run_id, f"no SLURM run ID in the log:\n{log}"
    return SlurmRun(workdir, returncode, log, run_id.group(1))


def _run_on_slurm(workdir: Path, *args: str) -> SlurmRun:
    proc = subprocess.run(_slurm_command(workdir, TINY_CONFIG, *args), cwd=REPO, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    return _slurm_run(workdir, proc.returncode, proc.stdout + proc.stderr)


@dataclass(frozen=True)
class SubmittedJob:
    """One sbatch job of a run: a rule's job, or a group job holding several rules' jobs."""

    slurm_id: str
    name: str  # the rule, or the group
    members: list[tuple[str, dict[str, str]]]  # (rule, resources) of each job it ran
    grouped: bool


def _resources(body: str) -> dict[str, str]:
    line = re.search(r"^\s+resources: (.*)$", body, flags=re.MULTILINE)
    assert line, f"a job printed no resources:\n{body}"
    return dict(item.split("=", 1) for item in line.group(1).split(", "))


def _submitted_jobs(log: str) -> list[SubmittedJob]:
    """Every sbatch job of a run, read from the log: each `rule` block (jobid K, submitted as `Job K`)
    and each `Group job` block (its rules indented, submitted under the group's log directory, in
    the order printed). `localrule` blocks ran on the submitting host."""
    submitted = re.findall(r"^Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (.*)\)", log, flags=re.MULTILINE)
    by_job = {job: slurm_id for job, slurm_id, _ in submitted}
    # A group job's log directory is group_<group>_<its rules>.
    group_jobs = [(Path(path).parent.name, slurm_id) for _, slurm_id, path in submitted]
    jobs = []
    rules = re.findall(r"^(?:rule|checkpoint) (\w+):\n((?:    .*\n)+)", log, flags=re.MULTILINE)
    for rule, body in rules:
        job = re.search(r"^    jobid: (\d+)$", body, flags=re.MULTILINE).group(1)
        jobs.append(SubmittedJob(by_job[job], rule, [(rule, _resources(body))], grouped=False))
    groups = re.findall(r"Group job (\w+) \(jobs in lexicogr\. order\):\n((?:\n|    .*\n|Shell command: .*\n)+)", log)
    for group, body in groups:
        members = re.findall(r"^    (?:rule|checkpoint) (\w+):\n((?:        .*\n)+)", body, flags=re.MULTILINE)
        assert members, f"group job {group} printed no rule:\n{body}"
        first = next(i for i, (directory, _) in enumerate(group_jobs) if directory.startswith(f"group_{group}_"))
        slurm_id = group_jobs.pop(first)[1]
        jobs.append(SubmittedJob(slurm_id, group, [(rule, _resources(b)) for rule, b in members], grouped=True))
    assert sorted(job.slurm_id for job in jobs) == sorted(slurm_id for _, slurm_id, _ in submitted), log
    return jobs


def _sacct(*selection: str, fields: tuple[str, ...] = SACCT_FIELDS) -> list[dict[str, str]]:
    """Accounting records, one per job (``-X``): of a run with ``--name <run id>`` (the plugin names every
    job after its run), of given jobs with ``-j``."""
    proc = subprocess.run(["sacct", "-X", "--parsable2", "--noheader", "--starttime", "now-1days", *selection,
                           "--format", ",".join(fields)],
                          capture_output=True, text=True, timeout=60, check=True)
    return [dict(zip(fields, row.split("|"))) for row in proc.stdout.splitlines()]


def _rule_of(comment: str) -> str:
    """The rule in the plugin's comment of a rule's job, `rule_<name>` or `rule_<name>_wildcards_<values>`."""
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
    records = {r["JobIDRaw"]: r for r in _sacct("--name", slurm_run.run_id)}
    assert sorted(records) == sorted(job.slurm_id for job in submitted)
    assert all(r["State"] == "COMPLETED" for r in records.values()), records

    for job in submitted:
        record = records[job.slurm_id]
        resources = [res for _, res in job.members]
        # A group's jobs run one after another on one core (profiles/slurm: cores: 1): the group job
        # asks for its largest memory and the sum of the runtimes.
        want = ({res["slurm_partition"] for res in resources}, {res["slurm_account"] for res in resources},
                f"{max(int(res['mem_mb']) for res in resources)}M",
                _timelimit(sum(int(res["runtime"]) for res in resources)), "1",
                max(int(res.get("gpu", 0)) for res in resources))
        gpus = re.search(r"gres/gpu=(\d+)", record["AllocTRES"])
        got = ({record["Partition"]}, {record["Account"]}, record["ReqMem"], record["Timelimit"], record["ReqCPUS"],
               int(gpus.group(1)) if gpus else 0)
        assert got == want, f"{job.name}: sacct shows {got}, the run asked for {want}"
        # The plugin's comment names the rule, or the group then its rules (cut short when long).
        if job.grouped:
            assert record["Comment"].startswith(f"rule_{job.name}_"), record
        else:
            assert _rule_of(record["Comment"]) == job.name, record


def test_small_jobs_are_grouped(slurm_run):
    """The figure jobs of all stages (and the claims overview) go to SLURM as group jobs; the
    per-network Lorenz and copy-task analyses as group jobs too (a group job holds at most the
    profile's group-components of them, so one group may take several SLURM jobs)."""
    submitted = _submitted_jobs(slurm_run.log)
    groups: dict[str, list[str]] = {}
    for job in submitted:
        if job.grouped:
            groups.setdefault(job.name, []).extend(rule for rule, _ in job.members)
    groups = {name: sorted(rules) for name, rules in groups.items()}
    figures = sorted(rule for job in submitted for rule, _ in job.members if rule.endswith("_figures"))
    assert len(figures) == len(TINY_STAGES) + 1, figures  # each stage's, and the claims overview
    # The tiny config with the schema's defaults filled in, as the workflow sees it.
    config = validate_config(yaml.safe_load(TINY_CONFIG.read_text()), load_schema(SCHEMA))["taming"]
    n_taming = len(config["archs"]) * config["replicates"]  # one analysis job per architecture and replicate
    lorenz = validate_config(yaml.safe_load(TINY_CONFIG.read_text()), load_schema(SCHEMA))["lorenz"]
    n_lorenz = len(lorenz["settings"]) * lorenz["training"]["replicates"] * sum(
        len(recipe["hidden_sizes"]) for recipe in lorenz["training"]["archs"].values())
    assert groups == {"figures": figures, "lorenz_analyses": ["lorenz_analyse"] * n_lorenz,
                      "taming_analyses": ["taming_analyse"] * n_taming}, groups


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
    records = _sacct("--name", run.run_id)
    assert [(_rule_of(r["Comment"]), r["State"]) for r in records] == [("claims_table", "FAILED")] * 2, records


# A training job long enough to be caught half-way: about 20 s of epochs on one core here.
PREEMPTED_EPOCHS = 150
PREEMPTED_LOG = Path("logs/kalman/train/canonical2_0db/linear/rep0.log")
PREEMPTED_STORE = Path("results/kalman/models/canonical2_0db/linear/rep0.zarr")
PREEMPTED_CHECKPOINT = Path("results/checkpoints/kalman/models/canonical2_0db/linear/rep0/train.pt")


def _preemption_config(directory: Path) -> Path:
    """The tiny config's Kalman stage alone, its linear network only, with 2048 training sequences and
    150 epochs."""
    config = yaml.safe_load(TINY_CONFIG.read_text())
    kalman = config["kalman"]
    kalman["archs"] = {"linear": kalman["archs"]["linear"]}
    kalman["data"]["n_train"] = 2048
    kalman["archs"]["linear"]["train"]["epochs"] = PREEMPTED_EPOCHS
    path = directory / "preemption.yaml"
    path.write_text(yaml.safe_dump({"seed": config["seed"], "device": config["device"], "stages": ["kalman"],
                                    "kalman": kalman}))
    return path


def _wait_for(what: str, condition, timeout_s: float, process: subprocess.Popen, log: Path):
    """Poll ``condition`` until it returns a true value; fail if the run ends or time runs out first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"the run ended (status {process.returncode}) before {what}:\n{log.read_text()}")
        time.sleep(0.2)
    pytest.fail(f"gave up after {timeout_s} s waiting for {what}:\n{log.read_text()}")


def _job_state(slurm_id: str) -> str:
    proc = subprocess.run(["squeue", "--noheader", "--jobs", slurm_id, "--format", "%T"], capture_output=True,
                          text=True, timeout=30)
    return proc.stdout.strip()


def test_a_preempted_training_job_resumes_from_its_checkpoint(cluster, tmp_path):
    """`scontrol requeue` of a running training job is what preemption (PreemptMode=REQUEUE) does:
    SLURM signals the job (SIGTERM), then queues it again. The trainer must write its checkpoint and
    exit, the requeued job resume from it, and the result equal an uninterrupted local run's bit
    for bit; Snakemake must wait through it and finish with no error."""
    config = _preemption_config(tmp_path)
    local = tmp_path / "local"
    run_snakemake(local, "--configfile", str(config), "--until", "kalman_train")

    workdir = tmp_path / "slurm"
    log = tmp_path / "snakemake.log"
    with log.open("w") as out:
        process = subprocess.Popen(_slurm_command(workdir, config, "--until", "kalman_train"), cwd=REPO,
                                   stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        slurm_id = _wait_for("the training job's submission", lambda: (re.findall(
            r"SLURM jobid (\d+) \(log: \S*/rule_kalman_train/", log.read_text()) or [None])[0], 300, process, log)
        _wait_for("a trained epoch", lambda: (workdir / PREEMPTED_LOG).exists() and re.search(
            r"epoch \d+/", (workdir / PREEMPTED_LOG).read_text()), 300, process, log)
        subprocess.run(["scontrol", "requeue", slurm_id], check=True, timeout=30)
        _wait_for("the checkpoint", (workdir / PREEMPTED_CHECKPOINT).exists, 60, process, log)
        _wait_for("the job to be queued again", lambda: _job_state(slurm_id) == "PENDING", 60, process, log)
        # A requeued job may not start for a while (SLURM's hold-off after a requeue); start it now.
        subprocess.run(["scontrol", "update", f"JobId={slurm_id}", "StartTime=now"], check=True, timeout=30)
        process.wait(timeout=RUN_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            subprocess.run(["scancel", "--name", _slurm_run(workdir, 1, log.read_text()).run_id], timeout=30)
    run = _slurm_run(workdir, process.returncode, log.read_text())
    assert run.returncode == 0, run.log

    # The requeued attempt's log (each attempt writes its own) shows where it took over.
    resumed = re.search(r"resumed from \S+ after epoch (\d+)", (workdir / PREEMPTED_LOG).read_text())
    assert resumed and 1 <= int(resumed.group(1)) < PREEMPTED_EPOCHS, (workdir / PREEMPTED_LOG).read_text()
    states = [r["State"] for r in _sacct("--duplicates", "--jobs", slurm_id, fields=("JobIDRaw", "State"))]
    assert states == ["REQUEUED", "COMPLETED"], states
    assert not (workdir / PREEMPTED_CHECKPOINT).exists(), "the checkpoint outlived the finished job"
    resumed_store, uninterrupted = read_dataset(workdir / PREEMPTED_STORE), read_dataset(local / PREEMPTED_STORE)
    assert resumed_store.attrs["epochs_run"] == uninterrupted.attrs["epochs_run"] == PREEMPTED_EPOCHS
    assert array_digest(resumed_store) == array_digest(uninterrupted)
