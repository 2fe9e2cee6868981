"""Rule chaos_figures: lambda1 and D_KY against g, spectra against i/N, gradient norm against lag."""
from rnndyn.logs import job_log
from rnndyn.plotting import save_figure
from rnndyn.plotting.chaos import gradient_figure, lambda1_figure, spectra_figure
from rnndyn.store import read_dataset

with job_log(snakemake.log[0]):
    summary = read_dataset(snakemake.input[0])
    out = snakemake.output
    save_figure(lambda1_figure(summary), out.lambda1_pdf, out.lambda1_png)
    save_figure(spectra_figure(summary), out.spectra_pdf, out.spectra_png)
    save_figure(gradient_figure(summary), out.gradients_pdf, out.gradients_png)
