"""Rule lorenz_figures: attractors, persistence diagrams, spectra, convergence, VPT, training, DSR."""
from rnndyn.jobs import run
from rnndyn.plotting.lorenz import figures_job

run(snakemake, figures_job)
