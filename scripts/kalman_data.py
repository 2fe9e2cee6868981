"""Rule kalman_data: observation sequences of one linear Gaussian system (train/val/test), with A, C, Q, R."""
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed, numpy_generator
from rnndyn.stages import kalman
from rnndyn.store import write_dataset

with job_log(snakemake.log[0]) as log:
    spec, data_cfg, base_seed = snakemake.params.spec, snakemake.params.data, snakemake.params.seed
    name = snakemake.wildcards.system
    system = kalman.build_system(spec, numpy_generator(base_seed, "kalman", name, "system"))
    data = kalman.simulate_splits(system, numpy_generator(base_seed, "kalman", name, "data"), data_cfg)
    data = data.assign_attrs(system=name, **spec)
    log.info("%s: n = %d, p = %d, rho(A) = %.3f", name, data.sizes["state"], data.sizes["output"], data.attrs["rho_A"])
    seeds = {key: derive_seed(base_seed, "kalman", name, key) for key in ("system", "data")}
    write_dataset(data, snakemake.output[0],
                  provenance=provenance(rule=snakemake.rule, config={"system": spec, "data": data_cfg}, seed=seeds))
