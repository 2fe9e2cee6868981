"""Rule taming_train: one architecture trained on the copy task at one delay, one replicate (its network store)."""
from rnndyn.jobs import run
from rnndyn.stages.taming_copy import train_job

run(snakemake, train_job)
