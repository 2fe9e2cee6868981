"""The workflow end to end on the tiny config: outputs, claims, report, determinism, faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr
import yaml

from rnndyn.runlock import stale_lock
from rnndyn.store import array_digest, read_dataset, read_provenance
from tests.conftest import REPO, TINY_CONFIG, run_snakemake

pytestmark = pytest.mark.workflow

STORES = ("results/bistable/trajectories.zarr", "results/bistable/scan.zarr")
FIGURES = ("bistable_bifurcation", "bistable_stability_map")
TINY_STAGES = yaml.safe_load(TINY_CONFIG.read_text())["stages"]


def _stores(workdir: Path) -> list[str]:
    return sorted(str(p.relative_to(workdir)) for p in (workdir / "results").rglob("*.zarr"))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("study")
    run_snakemake(workdir, "--configfile", str(TINY_CONFIG))
    return workdir


def test_outputs_claims_and_report(run_dir):
    for name in FIGURES:
        for ext in ("pdf", "png"):
            assert (run_dir / "results" / "figures" / f"{name}.{ext}").stat().st_size > 1000
    claims = pd.read_csv(run_dir / "results" / "claims.csv")
    assert {"id", "passed", "measured", "expected", "tolerance"} <= set(claims.columns)
    assert {f"{stage}.json" for stage in TINY_STAGES} == {p.name for p in (run_dir / "results/claims").iterdir()}
    bistable = claims[claims["id"].str.startswith("bistable/")]
    assert len(bistable) >= 10
    assert bistable["passed"].all(), bistable.loc[~bistable["passed"], ["id", "measured", "expected"]]
    run_snakemake(run_dir, "--configfile", str(TINY_CONFIG), "--report", "results/report.html")
    report = (run_dir / "results" / "report.html").read_text()
    assert "bistable_bifurcation.png" in report and "claims.html" in report


def test_every_store_has_provenance_and_units(run_dir):
    assert set(STORES) <= set(_stores(run_dir))
    for store in _stores(run_dir):
        prov = read_provenance(run_dir / store)
        assert prov["rule"] and prov["config_hash"] and "randomness" in prov
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # opens as a newcomer types it, without a warning
            xr.open_zarr(run_dir / store).close()
        ds = read_dataset(run_dir / store)
        for name in ds.data_vars:
            assert {"units", "long_name"} <= set(ds[name].attrs), f"{store}:{name}"


def test_rerun_does_nothing_and_says_so(run_dir):
    proc = run_snakemake(run_dir, "--configfile", str(TINY_CONFIG))
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_two_runs_give_identical_arrays(run_dir, tmp_path):
    run_snakemake(tmp_path, "--configfile", str(TINY_CONFIG))
    assert _stores(tmp_path) == _stores(run_dir)
    for store in _stores(run_dir):
        assert array_digest(read_dataset(tmp_path / store)) == array_digest(read_dataset(run_dir / store)), store
    assert (tmp_path / "results/claims.csv").read_text() == (run_dir / "results/claims.csv").read_text()


def test_forcerun_one_stage_recomputes_only_downstream(run_dir):
    data_mtime = (run_dir / STORES[0]).stat().st_mtime_ns
    proc = run_snakemake(run_dir, "--configfile", str(TINY_CONFIG), "--forcerun", "bistable_figures")
    log = proc.stdout + proc.stderr
    assert "rule bistable_figures" in log and "rule bistable_data" not in log
    assert (run_dir / STORES[0]).stat().st_mtime_ns == data_mtime


def test_bad_config_stops_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("bistable:\n  n_steps: -5\n  w: {start: 0.5, stop: 3.0, num: 0}\n")
    proc = run_snakemake(tmp_path, "--configfile", str(bad), check=False)
    assert proc.returncode != 0
    message = proc.stdout + proc.stderr
    assert "'bistable.n_steps': -5 is less than the minimum of 1" in message
    assert "'bistable.w.num': 0 is less than the minimum of 1" in message
    assert not (tmp_path / "results").exists()


def test_kill_mid_job_then_rerun_incomplete(tmp_path):
    """SIGKILL the whole run while the analysis job writes; --rerun-incomplete then finishes it
    without recomputing the data job that had completed."""
    config = tmp_path / "slow.yaml"
    # The bistable stage alone, with a finer scan so the analysis job lasts seconds and the kill
    # lands inside it.
    tiny = yaml.safe_load(TINY_CONFIG.read_text())
    tiny["stages"] = ["bistable"]
    tiny["bistable"]["analysis"].update(w_fine={"start": 0.5, "stop": 3.0, "num": 301},
                                        b_fine={"start": -1.5, "stop": 1.5, "num": 201})
    config.write_text(yaml.safe_dump(tiny))
    run_snakemake(tmp_path, "--configfile", str(config), "--until", "bistable_data")
    data = tmp_path / STORES[0]
    data_mtime = data.stat().st_mtime_ns
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
           str(tmp_path), "--cores", "2", "--configfile", str(config)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    analysis_log = tmp_path / "logs/bistable/analysis.log"
    deadline = time.monotonic() + 120
    # The contract logs a job's first line as it starts; the finer scan then lasts seconds.
    while not (analysis_log.exists() and "started" in analysis_log.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None, "analysis job never started"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    scan = tmp_path / STORES[1]
    assert not scan.exists(), "a killed job left a store that looks complete"
    assert not (tmp_path / "results/claims.csv").exists()

    # What `make study` does next: remove the dead run's lock, then finish what is incomplete.
    assert stale_lock(tmp_path)
    unlock = subprocess.run([sys.executable, "-m", "rnndyn.runlock", "--snakefile", str(REPO / "Snakefile"),
                             "--configfile", str(config)],
                            cwd=tmp_path, capture_output=True, text=True)
    assert unlock.returncode == 0 and "stale lock" in unlock.stdout
    assert not stale_lock(tmp_path)
    finished = run_snakemake(tmp_path, "--configfile", str(config), "--rerun-incomplete")
    log = finished.stdout + finished.stderr
    assert "rule bistable_data" not in log and "rule bistable_analysis" in log
    assert data.stat().st_mtime_ns == data_mtime
    assert pd.read_csv(tmp_path / "results/claims.csv")["passed"].all()


def test_lint_is_clean():
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr
    assert "Congratulations" in proc.stdout + proc.stderr


def _scheduled(run_dir: Path, config: dict, tmp_path: Path) -> dict[str, int]:
    """The jobs a dry run with ``config`` schedules after the tiny study completed: rule -> count."""
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(config))
    out = run_snakemake(run_dir, "--configfile", str(path), "--dry-run").stdout
    table = out[out.index("Job stats:"):].splitlines()[3:] if "Job stats:" in out else []
    counts = {}
    for line in table:
        rule, count = line.split()
        if rule == "total":
            return counts
        counts[rule] = int(count)
    assert "Nothing to be done" in out, out
    return counts


def _tiny() -> dict:
    return yaml.safe_load(TINY_CONFIG.read_text())


def test_changing_a_claim_tolerance_reruns_only_the_claims(run_dir, tmp_path):
    config = _tiny()
    config["chaos"].setdefault("analysis", {})["g_star_tol"] = 0.123
    scheduled = _scheduled(run_dir, config, tmp_path)
    assert "chaos_analysis" in scheduled, scheduled
    assert set(scheduled) <= {"chaos_analysis", "chaos_figures", "claims_table", "claims_figures", "all"}, scheduled


def test_adding_a_replicate_or_a_size_trains_only_the_new_networks(run_dir, tmp_path):
    config = _tiny()
    lorenz = config["lorenz"]["training"]
    n_settings = len(config["lorenz"]["settings"])

    def n_networks() -> int:
        return n_settings * sum(len(a["hidden_sizes"]) for a in lorenz["archs"].values()) * lorenz["replicates"]

    n_before = n_networks()
    lorenz["replicates"] += 1
    gru = lorenz["archs"]["gru"]
    gru["hidden_sizes"] = [*gru["hidden_sizes"], max(gru["hidden_sizes"]) + 2]
    n_new = n_networks() - n_before
    config["kalman"]["replicates"] += 1
    config["chaos"]["sizes"] = [*config["chaos"]["sizes"], max(config["chaos"]["sizes"]) + 4]
    scheduled = _scheduled(run_dir, config, tmp_path)
    assert scheduled.get("lorenz_train") == n_new and scheduled.get("lorenz_analyse") == n_new, scheduled
    assert scheduled.get("kalman_train") == len(config["kalman"]["systems"]) * len(config["kalman"]["archs"])
    assert scheduled.get("chaos_sweep") == config["chaos"]["replicates"], scheduled
    assert set(scheduled) <= {"lorenz_train", "lorenz_analyse", "lorenz_claims", "lorenz_figures", "kalman_train",
                              "kalman_analysis", "kalman_figures", "chaos_sweep", "chaos_analysis",
                              "chaos_figures", "claims_table", "claims_figures", "all"}, scheduled


def test_changing_a_training_setting_retrains_only_the_networks_it_affects(run_dir, tmp_path):
    config = _tiny()
    archs = config["kalman"]["archs"]
    assert len(archs) >= 2, "the tiny config needs two Kalman architectures for this test"
    changed = sorted(archs)[0]
    archs[changed]["train"]["lr"] *= 2
    scheduled = _scheduled(run_dir, config, tmp_path)
    assert scheduled.get("kalman_train") == len(config["kalman"]["systems"]) * config["kalman"]["replicates"]
    assert set(scheduled) <= {"kalman_train", "kalman_analysis", "kalman_figures", "claims_table", "claims_figures", "all"}, scheduled
