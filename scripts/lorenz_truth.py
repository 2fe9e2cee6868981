"""Rule lorenz_truth: embedding parameters, true and delay clouds, metric floor, AR baseline."""
from rnndyn.logs import job_log
from rnndyn.provenance import provenance
from rnndyn.seeding import derive_seed, numpy_generator
from rnndyn.stages.lorenz_analysis import truth_analysis
from rnndyn.store import read_dataset, write_dataset

with job_log(snakemake.log[0]) as log:
    cfg, base_seed = snakemake.params.cfg, snakemake.params.base_seed
    truth = truth_analysis(read_dataset(snakemake.input[0]), cfg, numpy_generator(base_seed, "lorenz", "truth"))
    log.info("lag %d, dimension %d, D2 true %.3f delay %.3f, floor D_stsp %.4g D_H %.4g, AR D_stsp %.4g D_H %.4g",
             int(truth["delay_lag"]), int(truth["embedding_dim"]), float(truth["true_d2"]),
             float(truth["delay_d2"]), float(truth["floor_d_stsp"]), float(truth["floor_d_h"]),
             float(truth["ar_d_stsp"]), float(truth["ar_d_h"]))
    write_dataset(truth, snakemake.output[0], provenance=provenance(
        rule=snakemake.rule, config=cfg, seed=derive_seed(base_seed, "lorenz", "truth")))
