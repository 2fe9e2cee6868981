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


wildcard_constraints:
    stage=r"[a-z_]+",


def job_config(section, *, drop=()):
    """Params function: the part of the config a job depends on, and nothing else.

    Snakemake reruns a job whenever its params change, so every rule passes its job exactly this:
    ``section`` is a dotted path into the config whose parts may name a wildcard in braces
    (``"kalman.archs.{arch}"``: the settings of this job's architecture only), and ``drop`` lists
    dotted keys under it to leave out (sweep lists, which make wildcards, and claim tolerances,
    which only the claims jobs read).
    """

    def params(wildcards):
        node = config
        for key in section.split("."):
            node = node[key.format(**wildcards)]
        return _without(node, drop)

    return params


def _without(node, drop):
    """A copy of the mapping ``node`` without the dotted keys ``drop``."""
    heads = {key.split(".", 1)[0] for key in drop}
    kept = {}
    for key, value in node.items():
        if key in drop:
            continue
        if key in heads:
            rest = [d.split(".", 1)[1] for d in drop if d.startswith(f"{key}.")]
            value = _without(value, rest)
        kept[key] = value
    return kept


def stage_figures(stage):
    """The figure files (PDF and PNG) a stage produces."""
    return [
        f"{RESULTS}/figures/{name}.{ext}"
        for name in STAGE_FIGURES[stage]
        for ext in ("pdf", "png")
    ]


def stage_claims(wildcards=None):
    """The claims files of the enabled stages, gathered into results/claims.csv."""
    return [f"{RESULTS}/claims/{stage}.json" for stage in config["stages"]]


def final_targets():
    """The final targets: each enabled stage's figures and the claims table."""
    figures = [f for stage in config["stages"] for f in stage_figures(stage)]
    return figures + [f"{RESULTS}/claims.csv", f"{RESULTS}/claims.html"]


# Each stage's .smk registers the figures it makes: STAGE_FIGURES["<stage>"] = [names].
STAGE_FIGURES = {}
