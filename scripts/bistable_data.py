"""Rule bistable_data: trajectories of the bistable neuron over the config's (w, b, h0) grid."""
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.stages import bistable
from rnndyn.store import write_dataset

with job_log(snakemake.log[0]) as log:
    cfg = snakemake.params.cfg
    traj = bistable.trajectories(cfg)
    log.info("simulated %s trajectories of %d steps", traj["h"].shape[:3], cfg["n_steps"])
    # Deterministic grid of initial conditions: no random draw, hence no seed.
    write_dataset(traj, snakemake.output[0], provenance=provenance(rule=snakemake.rule, config=cfg, seed=None))
