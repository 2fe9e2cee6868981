# Claim `flipflop`: networks trained on the 3-bit flip-flop store each memory as a stable fixed
# point. Data -> one training job per arch x seed -> fixed points and claims -> figure.

STAGE_FIGURES["flipflop"] = ["flipflop_fixed_points"]


# (arch, seed) of every training job of the config.
FLIPFLOP_RUNS = [
    (arch, seed) for arch in config["flipflop"]["models"] for seed in range(config["flipflop"]["n_seeds"])
]


rule flipflop_data:
    output:
        directory(f"{RESULTS}/flipflop/data.zarr"),
    params:
        cfg=config["flipflop"]["data"],
        seed=config["seed"],
    log:
        f"{LOGS}/flipflop/data.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/flipflop_data.py"


rule train_flipflop:
    wildcard_constraints:
        arch=r"[a-z0-9_]+",
        seed=r"[0-9]+",
    input:
        f"{RESULTS}/flipflop/data.zarr",
    output:
        directory(f"{RESULTS}/flipflop/models/{{arch}}/seed{{seed}}.zarr"),
    params:
        arch_cfg=lambda w: config["flipflop"]["models"][w.arch],
        seed=config["seed"],
        device=config["device"],
        checkpoint=f"{RESULTS}/checkpoints/flipflop/{{arch}}/seed{{seed}}.pt",
    log:
        f"{LOGS}/flipflop/train_{{arch}}_seed{{seed}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        ENV
    script:
        "../../scripts/train_flipflop.py"


rule flipflop_analysis:
    input:
        data=f"{RESULTS}/flipflop/data.zarr",
        runs=[f"{RESULTS}/flipflop/models/{arch}/seed{seed}.zarr" for arch, seed in FLIPFLOP_RUNS],
    output:
        analysis=directory(f"{RESULTS}/flipflop/fixed_points.zarr"),
        claims=f"{RESULTS}/claims/flipflop.json",
    params:
        cfg=config["flipflop"],
        seed=config["seed"],
        runs=FLIPFLOP_RUNS,
    log:
        f"{LOGS}/flipflop/analysis.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        ENV
    script:
        "../../scripts/flipflop_analysis.py"


rule flipflop_figures:
    input:
        f"{RESULTS}/flipflop/fixed_points.zarr",
    output:
        pdf=f"{RESULTS}/figures/flipflop_fixed_points.pdf",
        png=report(
            f"{RESULTS}/figures/flipflop_fixed_points.png",
            caption="../report/flipflop_fixed_points.rst",
            category="Flip-flop memories",
        ),
    log:
        f"{LOGS}/flipflop/figures.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    group:
        FIGURES_GROUP
    conda:
        ENV
    script:
        "../../scripts/flipflop_figures.py"
