"""Rule chaos_analysis: crossings, size invariance, D_KY / N, gradient rate vs lambda1; claims `lyapunov-gradient`."""
from rnndyn.jobs import run
from rnndyn.stages.chaos import analysis_job

run(snakemake, analysis_job)
