"""Rule linear_figures: impulse responses coloured by rho(W); the constant-input convergence map."""
from rnndyn.jobs import run
from rnndyn.plotting.linear import figures_job

run(snakemake, figures_job)
