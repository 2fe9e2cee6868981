"""Rule taming_init: gradient norm against lag at initialisation per architecture; the leaky unit's impulse response."""
from rnndyn.jobs import run
from rnndyn.stages.taming_init import init_job

run(snakemake, init_job)
