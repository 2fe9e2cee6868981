"""Rule lorenz_data: RK4 trajectories of every split and the standardised observable x."""
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.stages.lorenz_data import simulate_splits
from rnndyn.store import write_dataset

with job_log(snakemake.log[0]) as log:
    cfg, base_seed = snakemake.params.cfg, snakemake.params.base_seed
    data = simulate_splits(cfg, base_seed)
    log.info("splits %s; training mean %.4f, std %.4f of x", {s: data[f"x_{s}"].shape for s in
             ("train", "val", "test", "attractor", "floor")}, float(data["x_mean"]), float(data["x_std"]))
    # Every split draws from its own stream derived from the base seed (see the dataset's seed_keys).
    write_dataset(data, snakemake.output[0], provenance=provenance(rule=snakemake.rule, config=cfg, seed=base_seed))
