"""Rule flipflop_data: 3-bit flip-flop trials (train/val/test)."""
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed, numpy_generator
from rnndyn.stages import flipflop
from rnndyn.store import write_dataset

with job_log(snakemake.log[0]) as log:
    cfg, base_seed = snakemake.params.cfg, snakemake.params.seed
    data = flipflop.task_data(numpy_generator(base_seed, "flipflop", "data"), cfg)
    log.info("trials: %s", {split: data.sizes[f"trial_{split}"] for split in flipflop.SPLITS})
    write_dataset(data, snakemake.output[0],
                  provenance=provenance(rule=snakemake.rule, config=cfg, seed=derive_seed(base_seed, "flipflop", "data")))
