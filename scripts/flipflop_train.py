"""Rule flipflop_train: one network (arch x replicate) trained on the 3-bit flip-flop."""
from rnndyn.jobs import run
from rnndyn.stages.flipflop_networks import train_job

run(snakemake, train_job)
