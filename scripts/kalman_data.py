"""Rule kalman_data: observation sequences of one linear Gaussian system (train/val/test), with A, C, Q, R."""
from rnndyn.jobs import run
from rnndyn.stages.kalman import data_job

run(snakemake, data_job)
