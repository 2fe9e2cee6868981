# The study "recurrent neural networks as dynamical systems", end to end.
# Table of contents only: config + validation, the stages' rule files, the final targets.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/bistable.smk"
include: "workflow/rules/linear.smk"
include: "workflow/rules/euler.smk"
include: "workflow/rules/kalman.smk"
include: "workflow/rules/flipflop.smk"
include: "workflow/rules/chaos.smk"
include: "workflow/rules/taming.smk"
include: "workflow/rules/lorenz.smk"
include: "workflow/rules/claims.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        final_targets(),
