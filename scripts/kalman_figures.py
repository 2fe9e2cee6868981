"""Rule kalman_figures: MSE gap per system and architecture; eigenvalue overlays; impulse responses."""
from rnndyn.jobs import run
from rnndyn.plotting.kalman import figures_job

run(snakemake, figures_job)
