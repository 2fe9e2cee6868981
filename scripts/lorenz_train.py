"""Rule train_lorenz: one network (architecture x hidden size x seed) trained on the observed x.

A preempted run exits with the trainer's code (75) after checkpointing, so the scheduler requeues
it; the checkpoints are removed once the final store is written.
"""
import torch

from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed
from rnndyn.stages.lorenz_training import checkpoint_paths, model_label, train_lorenz
from rnndyn.store import read_dataset, write_dataset
from rnndyn.training import select_device

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    wc, params = snakemake.wildcards, snakemake.params
    arch, hidden, seed = wc.arch, int(wc.hidden), int(wc.seed)
    device = select_device(params.device)
    _, trained = train_lorenz(read_dataset(snakemake.input[0]), arch=arch, hidden=hidden, seed=seed,
                              cfg=params.cfg, base_seed=params.base_seed, device=device,
                              checkpoint_dir=params.checkpoint_dir, log=log)
    log.info("status %s after %d epochs", trained.attrs["status"], trained.sizes["epoch"])
    write_dataset(trained, snakemake.output[0], provenance=provenance(
        rule=snakemake.rule, config=params.cfg, seed=derive_seed(params.base_seed, "lorenz", arch, hidden, seed),
        device=str(device)))
    for path in checkpoint_paths(params.checkpoint_dir, model_label(arch, hidden, seed), len(params.cfg["phases"])):
        path.unlink(missing_ok=True)
