"""Rule bistable_analysis: bifurcation scan, fold boundary, end states; the `bistable` claims."""
from rnndyn.claims import write_claims
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.stages import bistable
from rnndyn.store import read_dataset, write_dataset

with job_log(snakemake.log[0]) as log:
    cfg = snakemake.params.cfg
    scan = bistable.analyse(read_dataset(snakemake.input[0]), cfg)
    claims = bistable.claims(scan)
    for claim in claims:
        log.info("%s: measured %.6g, expected %.6g -> %s", claim.id, claim.measured, claim.expected,
                 "passed" if claim.passed else "FAILED")
    write_dataset(scan, snakemake.output.scan, provenance=provenance(rule=snakemake.rule, config=cfg, seed=None))
    write_claims(claims, snakemake.output.claims)
