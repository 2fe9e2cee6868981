"""Rule flipflop_data: 3-bit flip-flop trials (train/val/test)."""
from rnndyn.jobs import run
from rnndyn.stages.flipflop import data_job

run(snakemake, data_job)
