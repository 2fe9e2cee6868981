"""Rule bistable_figures: the bifurcation diagram and the (w, b) stability map."""
from rnndyn.jobs import run
from rnndyn.plotting.bistable import figures_job

run(snakemake, figures_job)
