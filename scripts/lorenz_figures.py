"""Rule lorenz_figures: attractors, persistence diagrams, spectra, convergence, VPT, training, DSR."""
from rnndyn.logs import job_log
from rnndyn.plotting import save_figure
from rnndyn.plotting import lorenz as figures
from rnndyn.store import read_dataset

with job_log(snakemake.log[0]):
    inputs, out, labels = snakemake.input, snakemake.output, snakemake.params.labels
    reference, truth, summary = (read_dataset(inputs[k]) for k in ("reference", "truth", "summary"))
    best = figures.best_label(summary)
    analysis = read_dataset(inputs.analyses[labels.index(best)])
    models = {label: read_dataset(path) for label, path in zip(labels, inputs.models)}
    save_figure(figures.attractor_triptych(truth, analysis, best), out.attractors_pdf, out.attractors_png)
    save_figure(figures.persistence_figure(truth, analysis, best), out.persistence_pdf, out.persistence_png)
    save_figure(figures.spectra_figure(summary, reference), out.spectra_pdf, out.spectra_png)
    save_figure(figures.convergence_figure(reference), out.convergence_pdf, out.convergence_png)
    save_figure(figures.vpt_figure(summary, truth), out.vpt_pdf, out.vpt_png)
    save_figure(figures.training_figure(models), out.training_pdf, out.training_png)
    save_figure(figures.dsr_figure(summary, truth), out.dsr_pdf, out.dsr_png)
