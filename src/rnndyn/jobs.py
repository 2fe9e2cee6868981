"""The job contract: the one place that turns a Snakemake job into a library call.

A rule script is two lines, ``run(snakemake, stage_module.some_job)``; the stage's job function
receives a :class:`Job` and does the science. The contract owns everything that every job repeats:

- threads: the BLAS/OpenMP pools and torch's are limited to the rule's ``threads``;
- the job log (:func:`rnndyn.logs.job_log`), with a failure's traceback in it;
- the job's config (the rule's ``params.cfg``, exactly what the job depends on) and its hash;
- the random streams (:class:`rnndyn.seeding.Streams`, keyed by the stage and the wildcard values,
  built once) and, in every store's provenance, the streams actually drawn;
- the device, chosen at run time from ``params.device``;
- reading the inputs and writing the outputs atomically, with provenance;
- claim logging and writing;
- the training checkpoint folder, removed once the job's outputs are written (a preempted job
  exits with status 75 and keeps it, see :class:`rnndyn.training.TrainingInterrupted`).

Nothing here imports torch, xarray's plotting or seaborn unless the job uses them, so that a job
pays only for the imports it needs.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnndyn.logs import job_log
from rnndyn.seeding import Streams

if TYPE_CHECKING:
    import matplotlib.figure
    import torch
    import xarray as xr

    from rnndyn.claims import Claim

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CHECKPOINTS = "checkpoints"
"""Folder (beside the stage folders under ``results/``) of the training checkpoints."""


@dataclass
class Job:
    """One job of the workflow, as the library sees it.

    Attributes
    ----------
    rule
        The rule's name, ``<stage>_<verb>``.
    config
        The config the job depends on (the rule's ``params.cfg``; ``{}`` when it has none).
    wildcards
        Wildcard values by name, in the order they appear in the output path.
    input, output
        The job's files: name or position -> path, or a list of paths.
    log
        The job's logger (its file is the rule's ``log``).
    threads
        Cores the job may use.
    streams
        The job's random streams, keyed ``(stage, *wildcard values, *purpose)``; ``None`` for a
        rule without ``params.seed`` (it draws nothing).
    device_choice
        ``params.device`` (``"auto"``, ``"cpu"``, ``"cuda[:i]"``).
    checkpoint_dir
        Where a training job keeps its checkpoints (outside its outputs).
    """

    rule: str
    config: Any
    wildcards: dict[str, str]
    input: Any
    output: Any
    log: logging.Logger
    threads: int = 1
    streams: Streams | None = None
    device_choice: str = "cpu"
    checkpoint_dir: Path = field(default_factory=lambda: Path(CHECKPOINTS))

    @property
    def stage(self) -> str:
        """The stage, the rule name's first word."""
        return self.rule.split("_", 1)[0]

    @cached_property
    def device(self) -> torch.device:
        """The device of the job's computations (resolved once, at first use)."""
        from rnndyn.devices import select_device

        return select_device(self.device_choice)

    def read(self, key: int | str = 0) -> xr.Dataset:
        """The store of input ``key`` (a name or a position), loaded into memory."""
        from rnndyn.store import read_dataset

        return read_dataset(_pick(self.input, key))

    def read_all(self, key: int | str) -> list[xr.Dataset]:
        """The stores of the list input ``key``, in the rule's order."""
        from rnndyn.store import read_dataset

        return [read_dataset(path) for path in _pick(self.input, key)]

    def write(self, ds: xr.Dataset, key: int | str = 0, *, device: str | None = None) -> None:
        """Write ``ds`` to output ``key`` atomically, with the job's provenance.

        ``device`` is where the data were computed; default: the job's device if it was used,
        else the CPU.
        """
        from rnndyn.provenance import provenance
        from rnndyn.store import write_dataset

        if device is None:
            device = str(self.device) if "device" in self.__dict__ else "cpu"
        write_dataset(ds, _pick(self.output, key), provenance=provenance(
            rule=self.rule, config=self.config, device=device,
            randomness=None if self.streams is None else self.streams.provenance()))

    def write_claims(self, claims: Sequence[Claim], key: int | str = "claims") -> None:
        """Log every claim's verdict and write them to output ``key``."""
        from rnndyn.claims import write_claims

        for claim in claims:
            self.log.info("%s: measured %.6g, expected %.6g -> %s", claim.id, claim.measured, claim.expected,
                          "passed" if claim.passed else "FAILED")
        failed = sum(not claim.passed for claim in claims)
        self.log.info("%d claims, %d FAILED", len(claims), failed)
        write_claims(claims, _pick(self.output, key))

    def figure(self, name: str, figure: matplotlib.figure.Figure) -> None:
        """Save ``figure`` to the outputs ``<name>_pdf`` and ``<name>_png``."""
        from rnndyn.plotting import save_figure

        save_figure(figure, _pick(self.output, f"{name}_pdf"), _pick(self.output, f"{name}_png"))


def _pick(files: Any, key: int | str) -> Any:
    """Entry ``key`` of Snakemake's input/output lists (or of a plain mapping or sequence)."""
    if isinstance(key, str):
        try:
            return files[key] if isinstance(files, Mapping) else getattr(files, key)
        except (KeyError, AttributeError):
            raise KeyError(f"the job has no file named {key!r}") from None
    return files[key]


def limit_threads(threads: int) -> None:
    """Limit the job's numerical thread pools to ``threads`` (torch's too if it is loaded).

    The environment variables reach pools created later (torch reads ``OMP_NUM_THREADS`` when it is
    first imported); torch's pool, if it already exists, is set directly.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def checkpoint_dir_for(output: str | Path) -> Path:
    """The checkpoint folder of a job whose first output is ``output``.

    ``results/<stage>/<rest>.zarr`` -> ``results/checkpoints/<stage>/<rest>``: outside every output,
    so Snakemake never deletes it with a failed job's outputs, and the resubmitted job resumes.
    """
    output = Path(output)
    parts = output.with_suffix("").parts
    return Path(parts[0], CHECKPOINTS, *parts[1:]) if len(parts) > 1 else Path(CHECKPOINTS, *parts)


def job_from_snakemake(snakemake: Any, log: logging.Logger) -> Job:
    """The :class:`Job` of the running Snakemake script (its ``snakemake`` object)."""
    params = snakemake.params
    wildcards = {name: str(value) for name, value in snakemake.wildcards.items()}
    stage = snakemake.rule.split("_", 1)[0]
    base_seed = getattr(params, "seed", None)
    return Job(
        rule=snakemake.rule,
        config=getattr(params, "cfg", {}),
        wildcards=wildcards,
        input=snakemake.input,
        output=snakemake.output,
        log=log,
        threads=int(snakemake.threads),
        streams=None if base_seed is None else Streams(base_seed, stage, *wildcards.values()),
        device_choice=getattr(params, "device", "cpu"),
        checkpoint_dir=checkpoint_dir_for(snakemake.output[0]),
    )


def run(snakemake: Any, work: Callable[[Job], None]) -> None:
    """Run ``work`` as the Snakemake job ``snakemake``: the whole body of a rule script.

    The job's threads are limited, its log opened, ``work(job)`` called; once it returns (every
    output written) the job's checkpoint folder is removed. An exception is logged with its
    traceback and fails the job; a preempted training run exits with status 75 and keeps its
    checkpoint for the requeued job.
    """
    limit_threads(int(snakemake.threads))
    with job_log(snakemake.log[0]) as log:
        job = job_from_snakemake(snakemake, log)
        log.info("rule %s started%s, %d thread(s)", job.rule,
                 "".join(f", {name}={value}" for name, value in job.wildcards.items()), job.threads)
        work(job)
        remove_checkpoints(job.checkpoint_dir)


def remove_checkpoints(folder: Path) -> None:
    """Remove a finished job's checkpoint folder, and its parents up to ``checkpoints/`` once empty."""
    if folder.exists():
        shutil.rmtree(folder)
    for parent in folder.parents:
        if parent.name == CHECKPOINTS or not parent.is_dir() or any(parent.iterdir()):
            break
        parent.rmdir()
