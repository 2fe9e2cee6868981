"""Rule taming_analyse: test scores, lambda1 and gradient norms of one trained network of the copy task."""
from rnndyn.jobs import run
from rnndyn.stages.taming_copy import analyse_job

run(snakemake, analyse_job)
