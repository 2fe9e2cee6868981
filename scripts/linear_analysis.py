"""Rule linear_analysis: random W over a rho sweep; unrolling, impulse responses, constant-input
convergence; the `memory` and `linear-fixed-point` claims."""
from rnndyn.claims import write_claims
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed, numpy_generator
from rnndyn.stages import linear
from rnndyn.store import write_dataset

with job_log(snakemake.log[0]) as log:
    cfg, base_seed = snakemake.params.cfg, snakemake.params.seed
    rng = numpy_generator(base_seed, "linear")
    sweep = linear.sweep_matrices(rng, cfg)
    result = linear.analyse(sweep, rng, cfg).merge(sweep)
    claims = linear.claims(result)
    for claim in claims:
        log.info("%s: measured %.6g, expected %.6g -> %s", claim.id, claim.measured, claim.expected,
                 "passed" if claim.passed else "FAILED")
    write_dataset(result, snakemake.output.sweep,
                  provenance=provenance(rule=snakemake.rule, config=cfg, seed=derive_seed(base_seed, "linear")))
    write_claims(claims, snakemake.output.claims)
