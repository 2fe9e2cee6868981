"""Rule lorenz_claims: every network in one table, the best one chosen, the stage's claims."""
from rnndyn.claims import write_claims
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.stages.lorenz import network_claims, reference_claims, summarise
from rnndyn.store import read_dataset, write_dataset

with job_log(snakemake.log[0]) as log:
    inputs = snakemake.input
    summary = summarise(snakemake.params.labels, [read_dataset(p) for p in inputs.models],
                        [read_dataset(p) for p in inputs.analyses])
    claims = reference_claims(read_dataset(inputs.reference)) + network_claims(summary, read_dataset(inputs.truth))
    for claim in claims:
        log.info("%s: measured %.6g, expected %.6g -> %s", claim.id, claim.measured, claim.expected,
                 "passed" if claim.passed else "FAILED")
    write_dataset(summary, snakemake.output.summary, provenance=provenance(
        rule=snakemake.rule, config=snakemake.params.labels, seed=None))
    write_claims(claims, snakemake.output.claims)
