"""Rule euler_lorenz: largest Lyapunov exponent of the Euler or RK4 map of Lorenz-63 at one dt."""
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed, numpy_generator
from rnndyn.stages import euler
from rnndyn.store import write_dataset

with job_log(snakemake.log[0]) as log:
    cfg, base_seed = snakemake.params.cfg, snakemake.params.seed
    integrator, dt = snakemake.wildcards.integrator, snakemake.wildcards.dt
    keys = ("euler", "lorenz", integrator, dt)
    result = euler.lorenz_lyapunov(numpy_generator(base_seed, *keys), integrator, float(dt), cfg)
    log.info("%s map, dt = %s: lambda_1 = %.5f (batch mean)", integrator, dt, float(result["lambda1"].mean()))
    write_dataset(result, snakemake.output[0],
                  provenance=provenance(rule=snakemake.rule, config=cfg, seed=derive_seed(base_seed, *keys)))
