"""Rule linear_figures: impulse responses coloured by rho(W); the constant-input convergence map."""
from rnndyn.logs import job_log
from rnndyn.plotting import save_figure
from rnndyn.plotting.linear import convergence_map, impulse_responses
from rnndyn.store import read_dataset

with job_log(snakemake.log[0]):
    sweep = read_dataset(snakemake.input[0])
    out = snakemake.output
    save_figure(impulse_responses(sweep), out.impulse_pdf, out.impulse_png)
    save_figure(convergence_map(sweep), out.convergence_pdf, out.convergence_png)
