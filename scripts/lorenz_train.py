"""Rule lorenz_train: one network (architecture x hidden size x replicate) trained on the observed x (its network store)."""
from rnndyn.jobs import run
from rnndyn.stages.lorenz_training import train_job

run(snakemake, train_job)
