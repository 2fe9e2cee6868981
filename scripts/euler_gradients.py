"""Rule euler_gradients: BPTT gradient growth of W = I + dt J over dt for each stable linear ODE."""
from rnndyn.jobs import run
from rnndyn.stages.euler import gradients_job

run(snakemake, gradients_job)
