"""Rule chaos_figures: lambda1 and D_KY against g, spectra against i/N, gradient norm against lag."""
from rnndyn.jobs import run
from rnndyn.plotting.chaos import figures_job

run(snakemake, figures_job)
