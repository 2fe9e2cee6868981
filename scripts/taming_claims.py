"""Rule taming_analysis: copy-task scores, solved delays and lambda1 over every run; the `taming` claims."""
from rnndyn.claims import write_claims
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.stages import taming
from rnndyn.store import read_dataset, write_dataset

with job_log(snakemake.log[0]) as log:
    cfg = snakemake.params.cfg
    summary = taming.summarise(read_dataset(snakemake.input.init), [read_dataset(p) for p in snakemake.input.runs], cfg)
    claims = taming.claims(summary, cfg)
    for claim in claims:
        log.info("%s: measured %.6g, expected %.6g -> %s", claim.id, claim.measured, claim.expected,
                 "passed" if claim.passed else "FAILED")
    # Reads stores only: no random draw.
    write_dataset(summary, snakemake.output.summary, provenance=provenance(rule=snakemake.rule, config=cfg, seed=None))
    write_claims(claims, snakemake.output.claims)
