"""Rule taming_init: gradient norm against lag at initialisation for every architecture, and the leaky
unit's impulse response."""
import torch

from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed
from rnndyn.stages import taming
from rnndyn.store import write_dataset

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    cfg, base_seed = snakemake.params.cfg, snakemake.params.seed
    init = taming.initialisation(cfg, base_seed)
    for arch, rate in zip(init["architecture"].values, init["gradient_rate"].values):
        log.info("%s: gradient growth rate %.4g per step", arch, rate)
    # Every generator is seeded by derive_seed(seed, "taming", "init" | "leaky", ...).
    write_dataset(init, snakemake.output[0],
                  provenance=provenance(rule=snakemake.rule, config=cfg, seed=derive_seed(base_seed, "taming")))
