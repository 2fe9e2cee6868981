"""Rule train_kalman: one network (system x model x seed) trained to predict y_{t+1} from y_{<=t}."""
from pathlib import Path

import torch

from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed, torch_generator
from rnndyn.stages import kalman
from rnndyn.store import read_dataset, write_dataset

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    model_cfg, base_seed, device = snakemake.params.model_cfg, snakemake.params.seed, snakemake.params.device
    w = snakemake.wildcards
    keys = ("kalman", w.system, w.model, w.seed)
    checkpoint = Path(snakemake.params.checkpoint)
    # A preempted run raises TrainingInterrupted, which exits with status 75 for a requeue.
    store = kalman.train_network(read_dataset(snakemake.input[0]), w.model, model_cfg,
                                 init=torch_generator(base_seed, *keys, "init"),
                                 batches=torch_generator(base_seed, *keys, "batches"),
                                 device=device, checkpoint_path=checkpoint, log=log)
    log.info("status %s after %d epochs, validation loss %.5g", store.attrs["status"], store.attrs["epochs_run"],
             store.attrs["final_val_loss"])
    seeds = {key: derive_seed(base_seed, *keys, key) for key in ("init", "batches")}
    write_dataset(store, snakemake.output[0],
                  provenance=provenance(rule=snakemake.rule, config=model_cfg, seed=seeds,
                                        device=store.attrs["device"]))
    checkpoint.unlink(missing_ok=True)
