"""Rule linear_analysis: random W over a rho sweep; unrolling, impulse responses, constant-input
convergence; the `memory` and `linear-fixed-point` claims."""
from rnndyn.jobs import run
from rnndyn.stages.linear import analysis_job

run(snakemake, analysis_job)
