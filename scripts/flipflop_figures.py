"""Rule flipflop_figures: test trajectories in the top-3 PCA space with the fixed points by stability."""
from rnndyn.logs import job_log
from rnndyn.plotting import save_figure
from rnndyn.plotting.flipflop import fixed_points_pca
from rnndyn.store import read_dataset

with job_log(snakemake.log[0]):
    save_figure(fixed_points_pca(read_dataset(snakemake.input[0])), snakemake.output.pdf, snakemake.output.png)
