"""Rule euler_claims: the `euler` claims from the gradient sweep and the Lorenz exponents."""
from rnndyn.jobs import run
from rnndyn.stages.euler import claims_job

run(snakemake, claims_job)
