"""Rule euler_figures: stability region with measured growth rates, gradient norms against T,
lambda_1 of Lorenz's Euler map against dt."""
from rnndyn.jobs import run
from rnndyn.plotting.euler import figures_job

run(snakemake, figures_job)
