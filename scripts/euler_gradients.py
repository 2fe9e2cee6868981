"""Rule euler_gradients: BPTT gradient growth of W = I + dt J over dt for each stable linear ODE."""
import torch

from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed
from rnndyn.stages import euler
from rnndyn.store import write_dataset

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    cfg, base_seed = snakemake.params.cfg, snakemake.params.seed
    gradients = euler.analyse_gradients(cfg, base_seed)
    for name in gradients["system"].values:
        g = gradients.sel(system=name)
        log.info("%s: switch at dt = %.6g, boundary %.6g", name, float(g["switch"]), float(g["boundary"]))
    # One generator per system, seeded by derive_seed(seed, "euler", system).
    seeds = {name: derive_seed(base_seed, "euler", name) for name in cfg["systems"]}
    write_dataset(gradients, snakemake.output[0],
                  provenance=provenance(rule=snakemake.rule, config=cfg, seed=seeds))
