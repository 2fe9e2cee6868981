"""Rule lorenz_reference: the engine's Lyapunov spectrum of Lorenz-63 from its equations."""
import torch

from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed, numpy_generator
from rnndyn.stages.lorenz import reference_spectrum
from rnndyn.store import write_dataset

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)  # the engine's QR runs in torch
    cfg, base_seed = snakemake.params.cfg, snakemake.params.base_seed
    reference = reference_spectrum(cfg, snakemake.params.dt, numpy_generator(base_seed, "lorenz", "reference"))
    log.info("spectrum %s, Kaplan-Yorke %.4f", reference["exponents"].mean("trajectory").values,
             float(reference["kaplan_yorke"]))
    write_dataset(reference, snakemake.output[0], provenance=provenance(
        rule=snakemake.rule, config=cfg, seed=derive_seed(base_seed, "lorenz", "reference")))
