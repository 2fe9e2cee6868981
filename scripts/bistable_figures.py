"""Rule bistable_figures: the bifurcation diagram and the (w, b) stability map."""
from rnndyn.logs import job_log
from rnndyn.plotting import save_figure
from rnndyn.plotting.bistable import bifurcation_diagram, stability_map
from rnndyn.store import read_dataset

with job_log(snakemake.log[0]):
    scan = read_dataset(snakemake.input[0])
    out = snakemake.output
    save_figure(bifurcation_diagram(scan), out.bifurcation_pdf, out.bifurcation_png)
    save_figure(stability_map(scan), out.map_pdf, out.map_png)
