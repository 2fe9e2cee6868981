"""Rule lorenz_claims: every network in one table, the best one chosen, the stage's claims."""
from rnndyn.jobs import run
from rnndyn.stages.lorenz import claims_job

run(snakemake, claims_job)
