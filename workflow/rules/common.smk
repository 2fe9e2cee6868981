# Paths, config validation, sweeps and wildcard constraints shared by every stage.
import os
import sys
from pathlib import Path

# Jobs import the library from this checkout even where it is not pip-installed (a `--sdm conda`
# environment, a cluster node): the scripts need `rnndyn` on their path.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))

from rnndyn.config import load_schema, validate_config

validate_config(config, load_schema(Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"))

RESULTS = "results"
LOGS = "logs"
BENCHMARKS = f"{LOGS}/benchmarks"  # Snakemake's `benchmark:` file of every job: wall time, memory
ENV = "../../envs/rnndyn.yaml"

# Job groups: on a cluster, the jobs of a group (up to the profile's group-components of them, even
# unconnected ones) are submitted as one job, so that many small jobs do not flood the scheduler.
# A local run ignores groups.
FIGURES_GROUP = "figures"  # every stage's figure panels
LORENZ_ANALYSES_GROUP = "lorenz_analyses"  # the per-network analyses of the Lorenz sweep
TAMING_ANALYSES_GROUP = "taming_analyses"  # the per-network analyses of the copy-task sweep


wildcard_constraints:
    stage=r"[a-z_]+",


def job_config(section=None, *, drop=(), keep=(), **named):
    """Params function: the part of the config a job depends on, and nothing else.

    Snakemake reruns a job whenever its params change, so every rule passes its job exactly this.

    Parameters
    ----------
    section
        Dotted path of the job's config section; a part may name a wildcard in braces
        (``"kalman.archs.{arch}"``: the settings of this job's architecture only).
    drop
        Dotted keys under ``section`` to leave out: sweep lists, which make wildcards, and claim
        tolerances, which only the claims jobs read.
    keep
        If given, only these dotted keys of ``section`` (for a job that reads a few of many).
    **named
        Further entries, ``name="dotted.path"`` (a section or a single value), added under ``name``.
    """

    def params(wildcards):
        cfg = {}
        if section is not None:
            node = _lookup(section, wildcards)
            cfg = _without(_only(node, keep) if keep else node, drop)
        for name, path in named.items():
            cfg[name] = _sorted(_lookup(path, wildcards))
        return dict(sorted(cfg.items()))

    return params


def _lookup(path, wildcards):
    node = config
    for key in path.split("."):
        node = node[key.format(**wildcards)]
    return node


def _only(node, keep):
    """The dotted keys ``keep`` of the mapping ``node`` (and what lies under them)."""
    kept = {}
    for head in sorted({key.split(".", 1)[0] for key in keep}):
        if head in node:
            rest = [key.split(".", 1)[1] for key in keep if key.startswith(f"{head}.")]
            kept[head] = _only(node[head], rest) if rest and head not in keep else node[head]
    return kept


def _without(node, drop):
    """A copy of the mapping ``node`` without the dotted keys ``drop``, keys sorted at every level.

    Sorted, because Snakemake compares params as text: the same settings written in another key
    order must not rerun a job.
    """
    heads = {key.split(".", 1)[0] for key in drop}
    kept = {}
    for key in sorted(node):
        if key in drop:
            continue
        rest = [d.split(".", 1)[1] for d in drop if d.startswith(f"{key}.")] if key in heads else []
        kept[key] = _sorted(node[key], rest)
    return kept


def _sorted(value, drop=()):
    if isinstance(value, dict):
        return _without(value, drop)
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def chaos_sweep_mem_mb(wildcards):
    """Memory of one chaos sweep: its BPTT windows hold g x drive x trajectory x n_lags states of N units."""
    return 1000 + int(3000 * int(wildcards.n) / 1024)


def chaos_sweep_runtime(wildcards):
    """Time limit of one chaos sweep (minutes): the full spectrum costs O(N^3) per step (about 4 h on
    one core at N = 1024 with config/paper.yaml)."""
    return 10 + int(300 * (int(wildcards.n) / 1024) ** 3)


def stage_figures(stage):
    """The figure files (PDF and PNG) a stage produces."""
    return [f"{RESULTS}/figures/{name}.{ext}" for name in STAGE_FIGURES[stage] for ext in ("pdf", "png")]


def stage_claims(wildcards=None):
    """The claims files of the enabled stages, gathered into results/claims.csv."""
    return [f"{RESULTS}/claims/{stage}.json" for stage in config["stages"]]


def final_targets():
    """The final targets: each enabled stage's figures and the claims table."""
    figures = [f for stage in config["stages"] for f in stage_figures(stage)]
    return figures + [f"{RESULTS}/claims.csv", f"{RESULTS}/claims.html"]


# Each stage's .smk registers the figures it makes: STAGE_FIGURES["<stage>"] = [names].
STAGE_FIGURES = {}
