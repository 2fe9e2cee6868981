"""Rule euler_claims: the `euler` claims from the gradient sweep and the Lorenz exponents."""
from rnndyn.claims import write_claims
from rnndyn.logs import job_log
from rnndyn.stages import euler
from rnndyn.store import read_dataset

with job_log(snakemake.log[0]) as log:
    claims = euler.claims(read_dataset(snakemake.input.gradients), [read_dataset(p) for p in snakemake.input.lorenz])
    for claim in claims:
        log.info("%s: measured %.6g, expected %.6g -> %s", claim.id, claim.measured, claim.expected,
                 "passed" if claim.passed else "FAILED")
    write_claims(claims, snakemake.output[0])
