"""Rule train_taming: one architecture on the copy task at one delay (one seed), then its test scores,
lambda1 and gradient norms."""
from pathlib import Path

import torch

from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed
from rnndyn.stages import taming
from rnndyn.store import write_dataset
from rnndyn.training import select_device

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    cfg, base_seed, wc = snakemake.params.cfg, snakemake.params.seed, snakemake.wildcards
    arch, delay, seed = wc.arch, int(wc.delay), int(wc.seed)
    device = select_device(snakemake.params.device)
    checkpoint = Path(snakemake.params.checkpoint)
    # A preempted run raises TrainingInterrupted, which exits with status 75 for a requeue.
    run = taming.train_copy(arch, delay, seed, cfg, base_seed, device=device, checkpoint_path=checkpoint, log=log)
    log.info("%s L=%d seed %d: %s, recall accuracy %.3f, cross-entropy %.4f (baseline %.4f), lambda1 %.4f",
             arch, delay, seed, run.attrs["status"], float(run["recall_accuracy"]), float(run["test_cross_entropy"]),
             float(run["baseline_cross_entropy"]), float(run["lambda1"].mean()))
    write_dataset(run, snakemake.output[0],
                  provenance=provenance(rule=snakemake.rule, config=cfg,
                                        seed=derive_seed(base_seed, "taming", arch, delay, seed), device=str(device)))
    checkpoint.unlink(missing_ok=True)
