"""Rule chaos_analysis: crossings, size invariance, D_KY / N and gradient rate vs lambda1 over every
size and seed; the `lyapunov-gradient` claims."""
from rnndyn.claims import write_claims
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.stages import chaos
from rnndyn.store import read_dataset, write_dataset

with job_log(snakemake.log[0]) as log:
    cfg = snakemake.params.cfg
    summary = chaos.summarise([read_dataset(path) for path in snakemake.input], cfg)
    claims = chaos.claims(summary)
    for claim in claims:
        log.info("%s: measured %.6g, expected %.6g -> %s", claim.id, claim.measured, claim.expected,
                 "passed" if claim.passed else "FAILED")
    # Reads stores only: no random draw.
    write_dataset(summary, snakemake.output.summary, provenance=provenance(rule=snakemake.rule, config=cfg, seed=None))
    write_claims(claims, snakemake.output.claims)
