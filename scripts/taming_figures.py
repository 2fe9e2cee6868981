"""Rule taming_figures: copy-task accuracy against delay, gradient norm against lag, lambda1 of trained models."""
from rnndyn.logs import job_log
from rnndyn.plotting import save_figure
from rnndyn.plotting.taming import copy_figure, gradient_figure, lambda1_figure
from rnndyn.store import read_dataset

with job_log(snakemake.log[0]):
    summary = read_dataset(snakemake.input[0])
    out = snakemake.output
    save_figure(copy_figure(summary), out.copy_pdf, out.copy_png)
    save_figure(gradient_figure(summary), out.gradients_pdf, out.gradients_png)
    save_figure(lambda1_figure(summary), out.lambda1_pdf, out.lambda1_png)
