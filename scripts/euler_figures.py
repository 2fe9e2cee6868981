"""Rule euler_figures: stability region with measured growth rates, gradient norms against T,
lambda_1 of Lorenz's Euler map against dt."""
from rnndyn.logs import job_log
from rnndyn.plotting import save_figure
from rnndyn.plotting.euler import gradient_norms, lorenz_lambda1, stability_region
from rnndyn.stages.euler import FLOW_LAMBDA1, REFERENCE_EULER_LAMBDA1
from rnndyn.store import read_dataset

with job_log(snakemake.log[0]):
    gradients = read_dataset(snakemake.input.gradients)
    lorenz = [read_dataset(p) for p in snakemake.input.lorenz]
    out = snakemake.output
    save_figure(stability_region(gradients), out.region_pdf, out.region_png)
    save_figure(gradient_norms(gradients), out.norms_pdf, out.norms_png)
    references = {dt: value for dt, (value, _) in REFERENCE_EULER_LAMBDA1.items()}
    save_figure(lorenz_lambda1(lorenz, references, FLOW_LAMBDA1), out.lorenz_pdf, out.lorenz_png)
