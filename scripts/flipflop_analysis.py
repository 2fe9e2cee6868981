"""Rule flipflop_analysis: accuracy, fixed points and memory codes of every trained network; the
`flipflop` claims."""
import torch

from rnndyn.claims import write_claims
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed
from rnndyn.stages import flipflop
from rnndyn.store import read_dataset, write_dataset

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    cfg, base_seed = snakemake.params.cfg, snakemake.params.seed
    runs = [(arch, int(seed), read_dataset(path)) for (arch, seed), path in zip(snakemake.params.runs, snakemake.input.runs)]
    result = flipflop.analyse(read_dataset(snakemake.input.data), runs, cfg, base_seed)
    claims = flipflop.claims(result)
    for claim in claims:
        log.info("%s: measured %.6g, expected %.6g -> %s", claim.id, claim.measured, claim.expected,
                 "passed" if claim.passed else "FAILED")
    seeds = {f"{arch}/{seed}": derive_seed(base_seed, "flipflop", arch, seed, "fixed_points")
             for arch, seed in snakemake.params.runs}
    write_dataset(result, snakemake.output.analysis, provenance=provenance(rule=snakemake.rule, config=cfg, seed=seeds))
    write_claims(claims, snakemake.output.claims)
