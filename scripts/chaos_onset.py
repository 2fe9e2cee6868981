"""Rule chaos_onset: lambda1 alone on a fine gain grid for every replicate network of one size (onset of chaos)."""
from rnndyn.jobs import run
from rnndyn.stages.chaos_onset import onset_job

run(snakemake, onset_job)
