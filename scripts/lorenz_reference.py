"""Rule lorenz_reference: the engine's Lyapunov spectrum of Lorenz-63 from its equations."""
from rnndyn.jobs import run
from rnndyn.stages.lorenz_reference import reference_job

run(snakemake, reference_job)
