"""Rule taming_figures: copy-task accuracy against delay, gradient norm against lag, lambda1 of trained networks."""
from rnndyn.jobs import run
from rnndyn.plotting.taming import figures_job

run(snakemake, figures_job)
