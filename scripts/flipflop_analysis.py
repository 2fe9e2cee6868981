"""Rule flipflop_analysis: accuracy, fixed points and memory codes of every trained network; the `flipflop` claims."""
from rnndyn.jobs import run
from rnndyn.stages.flipflop_networks import analysis_job

run(snakemake, analysis_job)
