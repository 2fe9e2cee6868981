# Claim `flipflop`: networks trained on the 3-bit flip-flop store each memory as a stable fixed
# point. Data -> one training job per arch x replicate -> fixed points and claims -> figure.

STAGE_FIGURES["flipflop"] = ["flipflop_fixed_points"]


rule flipflop_data:
    output:
        directory(f"{RESULTS}/flipflop/data.zarr"),
    log:
        f"{LOGS}/flipflop/data.log",
    benchmark:
        f"{BENCHMARKS}/flipflop/data.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=job_config("flipflop.data"),
        seed=config["seed"],
    script:
        "../../scripts/flipflop_data.py"


rule flipflop_train:
    input:
        f"{RESULTS}/flipflop/data.zarr",
    output:
        directory(f"{RESULTS}/flipflop/models/{{arch}}/rep{{replicate}}.zarr"),
    log:
        f"{LOGS}/flipflop/train/{{arch}}/rep{{replicate}}.log",
    benchmark:
        f"{BENCHMARKS}/flipflop/train/{{arch}}/rep{{replicate}}.tsv"
    wildcard_constraints:
        arch=r"[a-z0-9_]+",
        replicate=r"[0-9]+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        cfg=job_config("flipflop.archs.{arch}"),
        seed=config["seed"],
        device=config["device"],
    script:
        "../../scripts/flipflop_train.py"


rule flipflop_analysis:
    input:
        data=f"{RESULTS}/flipflop/data.zarr",
        networks=[
            f"{RESULTS}/flipflop/models/{arch}/rep{replicate}.zarr"
            for arch in config["flipflop"]["archs"]
            for replicate in range(config["flipflop"]["replicates"])
        ],
    output:
        analysis=directory(f"{RESULTS}/flipflop/fixed_points.zarr"),
        claims=f"{RESULTS}/claims/flipflop.json",
    log:
        f"{LOGS}/flipflop/analysis.log",
    benchmark:
        f"{BENCHMARKS}/flipflop/analysis.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        cfg=job_config("flipflop.fixed_points"),
        seed=config["seed"],
    script:
        "../../scripts/flipflop_analysis.py"


rule flipflop_figures:
    input:
        f"{RESULTS}/flipflop/fixed_points.zarr",
    output:
        fixed_points_pdf=f"{RESULTS}/figures/flipflop_fixed_points.pdf",
        fixed_points_png=report(
            f"{RESULTS}/figures/flipflop_fixed_points.png",
            caption="../report/flipflop_fixed_points.rst",
            category="Flip-flop memories",
        ),
    log:
        f"{LOGS}/flipflop/figures.log",
    benchmark:
        f"{BENCHMARKS}/flipflop/figures.tsv"
    group:
        FIGURES_GROUP
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/flipflop_figures.py"
