"""Rule lorenz_truth: embedding parameters, true and delay clouds, metric floor, AR baseline."""
from rnndyn.jobs import run
from rnndyn.stages.lorenz_truth import truth_job

run(snakemake, truth_job)
