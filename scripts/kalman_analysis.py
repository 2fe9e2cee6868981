"""Rule kalman_analysis: Kalman baselines, MSE gaps, eigenvalues and impulse responses; the `kalman` claims."""
from rnndyn.jobs import run
from rnndyn.stages.kalman_networks import analysis_job

run(snakemake, analysis_job)
