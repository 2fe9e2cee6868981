"""Rule lorenz_analyse: one trained network in closed loop (forecasts, spectrum, topology, metrics)."""
from rnndyn.jobs import run
from rnndyn.stages.lorenz_analysis import analyse_job

run(snakemake, analyse_job)
