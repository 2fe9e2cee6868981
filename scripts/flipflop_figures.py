"""Rule flipflop_figures: test trajectories in the top-3 PCA space with the fixed points by stability."""
from rnndyn.jobs import run
from rnndyn.plotting.flipflop import figures_job

run(snakemake, figures_job)
