"""Rule taming_claims: copy-task scores, solved delays and lambda1 over every network; the `taming` claims."""
from rnndyn.jobs import run
from rnndyn.stages.taming import claims_job

run(snakemake, claims_job)
