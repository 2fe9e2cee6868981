"""Rule chaos_sweep: lambda1, full spectra and BPTT gradient norms of the random tanh networks of one
size and seed, over the g x drive sweep."""
import torch

from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.stages import chaos
from rnndyn.store import write_dataset
from rnndyn.training import select_device

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    cfg, base_seed = snakemake.params.cfg, snakemake.params.seed
    n, seed = int(snakemake.wildcards.n), int(snakemake.wildcards.seed)
    device = select_device(snakemake.params.device)
    sweep = chaos.network_sweep(n, seed, cfg, base_seed, device=device)
    for g in sweep["g"].values:
        row = sweep.sel(g=g)
        log.info("g = %.3g: lambda1 %s, gradient rate %s", g,
                 row["lambda1"].mean("trajectory").values.round(4), row["gradient_rate"].values.round(4))
    write_dataset(sweep, snakemake.output[0],
                  provenance=provenance(rule=snakemake.rule, config=cfg, seed=sweep.attrs["derived_seed"],
                                        device=str(device)))
