"""Rule claims_figures: the overview of every claim, the claims page and the report's landing summary."""
from rnndyn.jobs import run
from rnndyn.plotting.claims import figures_job

run(snakemake, figures_job)
