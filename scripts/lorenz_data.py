"""Rule lorenz_data: RK4 trajectories of every split and the standardised observable x."""
from rnndyn.jobs import run
from rnndyn.stages.lorenz_data import data_job

run(snakemake, data_job)
