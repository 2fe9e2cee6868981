# Claim `taming`: gradient norm against lag at initialisation and the leaky time constant (one job),
# the copy task for every architecture x delay x seed (train_taming), then claims and figures.

STAGE_FIGURES["taming"] = ["taming_copy", "taming_gradients", "taming_lambda1"]


# One trained-model store per architecture, delay and seed of the config.
TAMING_RUNS = [
    f"{RESULTS}/taming/train/{arch}_L{delay}_seed{seed}.zarr"
    for arch in config["taming"]["architectures"]
    for delay in config["taming"]["copy"]["delays"]
    for seed in range(config["taming"]["n_seeds"])
]

# What a training job depends on: the taming section without the sweep lists and the settings of
# other jobs, so that adding a delay or changing the leaky sweep retrains nothing.
TAMING_TRAINING_CFG = {
    **{key: value for key, value in config["taming"].items() if key not in ("architectures", "n_seeds", "leaky", "analysis")},
    "copy": {key: value for key, value in config["taming"]["copy"].items() if key != "delays"},
}


rule taming_init:
    output:
        directory(f"{RESULTS}/taming/init.zarr"),
    params:
        cfg=config["taming"],
        seed=config["seed"],
    log:
        f"{LOGS}/taming/init.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/taming_init.py"


rule train_taming:
    output:
        directory(f"{RESULTS}/taming/train/{{arch}}_L{{delay}}_seed{{seed}}.zarr"),
    wildcard_constraints:
        arch=r"vanilla|spectral|orthogonal|leaky|lstm|gru",
        delay=r"[0-9]+",
        seed=r"[0-9]+",
    params:
        cfg=TAMING_TRAINING_CFG,
        seed=config["seed"],
        device=config["device"],
        checkpoint=f"{RESULTS}/checkpoints/taming/{{arch}}_L{{delay}}_seed{{seed}}.pt",
    log:
        f"{LOGS}/taming/train_{{arch}}_L{{delay}}_seed{{seed}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        ENV
    script:
        "../../scripts/taming_train.py"


rule taming_analysis:
    input:
        init=f"{RESULTS}/taming/init.zarr",
        runs=TAMING_RUNS,
    output:
        summary=directory(f"{RESULTS}/taming/summary.zarr"),
        claims=f"{RESULTS}/claims/taming.json",
    params:
        cfg=config["taming"],
    log:
        f"{LOGS}/taming/analysis.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/taming_analysis.py"


rule taming_figures:
    input:
        f"{RESULTS}/taming/summary.zarr",
    output:
        copy_pdf=f"{RESULTS}/figures/taming_copy.pdf",
        copy_png=report(
            f"{RESULTS}/figures/taming_copy.png",
            caption="../report/taming_copy.rst",
            category="Taming gradients",
        ),
        gradients_pdf=f"{RESULTS}/figures/taming_gradients.pdf",
        gradients_png=report(
            f"{RESULTS}/figures/taming_gradients.png",
            caption="../report/taming_gradients.rst",
            category="Taming gradients",
        ),
        lambda1_pdf=f"{RESULTS}/figures/taming_lambda1.pdf",
        lambda1_png=report(
            f"{RESULTS}/figures/taming_lambda1.png",
            caption="../report/taming_lambda1.rst",
            category="Taming gradients",
        ),
    log:
        f"{LOGS}/taming/figures.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    group:
        FIGURES_GROUP
    conda:
        ENV
    script:
        "../../scripts/taming_figures.py"
