"""Rule lorenz_analyse: one trained network in closed loop (forecasts, spectrum, topology, metrics)."""
import torch

from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed, numpy_generator
from rnndyn.stages.lorenz_analysis import analyse_model
from rnndyn.stages.lorenz_training import load_lorenz_model
from rnndyn.store import read_dataset, write_dataset

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    wc, cfg, base_seed = snakemake.wildcards, snakemake.params.cfg, snakemake.params.base_seed
    keys = ("lorenz", "analysis", wc.arch, wc.hidden, wc.seed)
    model = load_lorenz_model(read_dataset(snakemake.input.model))
    result = analyse_model(model, read_dataset(snakemake.input.data), read_dataset(snakemake.input.truth), cfg,
                           numpy_generator(base_seed, *keys))
    log.info("spectrum %s; median test VPT %.3f; D_stsp %.4g, D_H %.4g; H1 dominant %d, D2 %.3f",
             result["lyapunov_mean"].values[:3], float(result["vpt_test"].median()), float(result["d_stsp"]),
             float(result["d_h"]), int(result["hidden_n_dominant_h1"]), float(result["hidden_d2"]))
    write_dataset(result, snakemake.output[0], provenance=provenance(
        rule=snakemake.rule, config=cfg, seed=derive_seed(base_seed, *keys)))
