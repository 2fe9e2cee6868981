"""Rule train_kalman: one network (system x model x seed) trained to predict y_{t+1} from y_{<=t}."""
import torch

from rnndyn.logs import job_log
from rnndyn.stages import kalman
from rnndyn.stages.runs import train_and_store

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    w = snakemake.wildcards
    train_and_store(kalman.train_network, snakemake.input[0], w.model, snakemake.params.model_cfg,
                    keys=("kalman", w.system, w.model, w.seed), base_seed=snakemake.params.seed,
                    device=snakemake.params.device, checkpoint=snakemake.params.checkpoint,
                    output=snakemake.output[0], rule=snakemake.rule, log=log)
