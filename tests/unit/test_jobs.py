"""The job contract: log, streams, provenance, claims, checkpoints, threads."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from rnndyn.claims import Claim, read_claims
from rnndyn.jobs import checkpoint_dir_for, run
from rnndyn.seeding import derive_seed
from rnndyn.store import read_dataset, read_provenance


class _Wildcards(dict):
    """Snakemake's wildcards: a named list whose ``items()`` follow the output path's order."""


class _Files(list):
    """Snakemake's input/output: a list whose entries also have names."""

    def __init__(self, **named: str) -> None:
        super().__init__(named.values())
        self.__dict__.update(named)


def _snakemake(tmp_path: Path, *, rule: str = "kalman_train", seed: int | None = 7,
               store: str | None = None) -> SimpleNamespace:
    params = {"cfg": {"epochs": 3}, "device": "cpu"}
    if seed is not None:
        params["seed"] = seed
    return SimpleNamespace(
        rule=rule, threads=1, log=[str(tmp_path / "logs" / "job.log")],
        params=SimpleNamespace(**params),
        wildcards=_Wildcards(system="canonical2", arch="tanh", replicate="0"),
        input=_Files(), output=_Files(
            store=store or str(tmp_path / "results" / "kalman" / "models" / "net.zarr"),
            claims=str(tmp_path / "results" / "claims" / "kalman.json")),
    )


def _dataset(values: np.ndarray) -> xr.Dataset:
    return xr.Dataset({"v": ("i", values, {"units": "1", "long_name": "value"})})


def test_streams_are_keyed_by_stage_and_wildcards_and_recorded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    snakemake = _snakemake(tmp_path)

    def work(job):
        job.write(_dataset(job.streams.numpy("init").normal(size=3)), "store")

    run(snakemake, work)
    expected = derive_seed(7, "kalman", "canonical2", "tanh", "0", "init")
    stored = read_dataset(snakemake.output.store)["v"].values
    np.testing.assert_array_equal(stored, np.random.default_rng(expected).normal(size=3))
    prov = read_provenance(snakemake.output.store)
    assert prov["rule"] == "kalman_train" and prov["device"] == "cpu"
    assert prov["randomness"] == {"base_seed": 7, "prefix": ["kalman", "canonical2", "tanh", "0"],
                                  "streams": {"init": expected}}
    assert "epochs" not in prov  # only the config's hash is kept
    assert len(prov["config_hash"]) == 64


def test_a_job_without_a_seed_draws_nothing_and_says_so(tmp_path):
    snakemake = _snakemake(tmp_path, seed=None)
    run(snakemake, lambda job: job.write(_dataset(np.zeros(2)), "store"))
    assert read_provenance(snakemake.output.store)["randomness"] is None


def test_claims_are_logged_and_written(tmp_path):
    snakemake = _snakemake(tmp_path, rule="kalman_claims")
    claim = Claim(id="kalman/x", description="d", measured=1.0, expected=1.0, tolerance=0.1, unit="1",
                  passed=True, kind="theory", criterion="=±tol")
    run(snakemake, lambda job: job.write_claims([claim]))
    assert read_claims(snakemake.output.claims) == [claim]
    log = Path(snakemake.log[0]).read_text()
    assert "rule kalman_claims started, system=canonical2, arch=tanh, replicate=0, 1 thread(s)" in log
    assert "kalman/x: measured 1, expected 1 -> passed" in log and "1 claims, 0 FAILED" in log


def test_checkpoints_are_removed_after_success_and_kept_after_preemption(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    snakemake = _snakemake(tmp_path, store="results/kalman/models/net.zarr")
    checkpoints = Path("results/checkpoints/kalman/models/net")

    def preempted(job):
        assert job.checkpoint_dir == checkpoints
        job.checkpoint_dir.mkdir(parents=True)
        (job.checkpoint_dir / "train.pt").write_bytes(b"state")
        raise SystemExit(75)

    with pytest.raises(SystemExit) as stop:
        run(snakemake, preempted)
    assert stop.value.code == 75 and (checkpoints / "train.pt").exists()
    assert "exiting with status 75" in Path(snakemake.log[0]).read_text()
    run(snakemake, lambda job: job.write(_dataset(np.zeros(1)), "store"))
    assert not checkpoints.exists() and Path(snakemake.output.store).is_dir()
    # Emptied parents go too, up to the checkpoints folder itself.
    assert not Path("results/checkpoints/kalman").exists() and Path("results/checkpoints").is_dir()


def test_a_failing_job_logs_its_traceback_and_keeps_its_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    snakemake = _snakemake(tmp_path, store="results/kalman/models/net.zarr")

    def fails(job):
        job.checkpoint_dir.mkdir(parents=True)
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        run(snakemake, fails)
    assert "ValueError: bad input" in Path(snakemake.log[0]).read_text()
    assert checkpoint_dir_for(snakemake.output.store).exists()


def test_threads_are_limited(tmp_path, monkeypatch):
    import torch

    snakemake = _snakemake(tmp_path)
    snakemake.threads = 1
    before = torch.get_num_threads()
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    try:
        run(snakemake, lambda job: None)
        assert torch.get_num_threads() == 1 and os.environ["OMP_NUM_THREADS"] == "1"
    finally:
        torch.set_num_threads(before)


def test_an_unknown_file_name_is_named(tmp_path):
    snakemake = _snakemake(tmp_path)
    with pytest.raises(KeyError, match="no file named 'summary'"):
        run(snakemake, lambda job: job.write(_dataset(np.zeros(1)), "summary"))


def test_checkpoint_folder_mirrors_the_output():
    assert checkpoint_dir_for("results/lorenz/models/gru/h32/rep0.zarr") == \
        Path("results/checkpoints/lorenz/models/gru/h32/rep0")


def test_shared_streams_are_keyed_by_the_stage_and_recorded_under_their_full_key():
    from rnndyn.seeding import Streams

    streams = Streams(3, "taming", "lstm", "5", "0")
    trials = streams.shared().numpy("copy", 5, 0, "train")
    expected = derive_seed(3, "taming", "copy", 5, 0, "train")
    assert trials.bit_generator.seed_seq.entropy == expected
    assert streams.used == {"taming:copy/5/0/train": expected}
    assert streams.shared("copy").seed(5) == derive_seed(3, "taming", "copy", 5)
    assert "taming:copy/5" in streams.used
