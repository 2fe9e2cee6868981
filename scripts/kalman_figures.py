"""Rule kalman_figures: MSE gap per system and model; eigenvalue overlays; impulse responses."""
from rnndyn.logs import job_log
from rnndyn.plotting import save_figure
from rnndyn.plotting.kalman import eigenvalues, gap, impulse_responses
from rnndyn.stages.kalman import GAP_TOL_DB
from rnndyn.store import read_dataset

with job_log(snakemake.log[0]):
    analysis = read_dataset(snakemake.input[0])
    out = snakemake.output
    save_figure(gap(analysis, GAP_TOL_DB), out.gap_pdf, out.gap_png)
    save_figure(eigenvalues(analysis), out.eig_pdf, out.eig_png)
    save_figure(impulse_responses(analysis), out.impulse_pdf, out.impulse_png)
