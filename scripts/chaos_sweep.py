"""Rule chaos_sweep: lambda1, full spectra and BPTT gradient norms of one random tanh network (size, replicate)."""
from rnndyn.jobs import run
from rnndyn.stages.chaos_sweep import sweep_job

run(snakemake, sweep_job)
