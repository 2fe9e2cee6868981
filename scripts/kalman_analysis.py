"""Rule kalman_analysis: Kalman baselines, MSE gaps, eigenvalues and impulse responses; the `kalman` claims."""
import torch

from rnndyn.claims import write_claims
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.stages import kalman
from rnndyn.store import read_dataset, write_dataset

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    cfg = snakemake.params.cfg
    data = {name: read_dataset(path) for name, path in zip(snakemake.params.systems, snakemake.input.data)}
    runs = [(system, model, int(seed), read_dataset(path))
            for (system, model, seed), path in zip(snakemake.params.runs, snakemake.input.runs)]
    result = kalman.analyse(data, runs, cfg)
    claims = kalman.claims(result)
    for claim in claims:
        log.info("%s: measured %.6g, expected %.6g -> %s", claim.id, claim.measured, claim.expected,
                 "passed" if claim.passed else "FAILED")
    write_dataset(result, snakemake.output.analysis, provenance=provenance(rule=snakemake.rule, config=cfg, seed=None))
    write_claims(claims, snakemake.output.claims)
