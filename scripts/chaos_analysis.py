"""Rule chaos_analysis: crossings, onset of chaos by finite-size scaling, size invariance, D_KY / N, gradient rate vs lambda1; claims `lyapunov-gradient`."""
from rnndyn.jobs import run
from rnndyn.stages.chaos import analysis_job

run(snakemake, analysis_job)
