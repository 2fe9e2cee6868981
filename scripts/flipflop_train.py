"""Rule train_flipflop: one network (arch x seed) trained on the 3-bit flip-flop."""
import torch

from rnndyn.logs import job_log
from rnndyn.stages import flipflop
from rnndyn.stages.runs import train_and_store

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    w = snakemake.wildcards
    train_and_store(flipflop.train_network, snakemake.input[0], w.arch, snakemake.params.arch_cfg,
                    keys=("flipflop", w.arch, w.seed), base_seed=snakemake.params.seed,
                    device=snakemake.params.device, checkpoint=snakemake.params.checkpoint,
                    output=snakemake.output[0], rule=snakemake.rule, log=log)
