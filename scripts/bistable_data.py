"""Rule bistable_data: trajectories of the bistable neuron over the config's (w, b, h0) grid."""
from rnndyn.jobs import run
from rnndyn.stages.bistable import data_job

run(snakemake, data_job)
