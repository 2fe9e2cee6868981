# Claim `bistable`: the neuron h_{t+1} = tanh(w h_t + b); data -> bifurcation scan -> figures.

STAGE_FIGURES["bistable"] = ["bistable_bifurcation", "bistable_stability_map"]


rule bistable_data:
    output:
        directory(f"{RESULTS}/bistable/trajectories.zarr"),
    log:
        f"{LOGS}/bistable/data.log",
    benchmark:
        f"{BENCHMARKS}/bistable/data.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=job_config("bistable", drop=("analysis",)),
    script:
        "../../scripts/bistable_data.py"


rule bistable_analysis:
    input:
        f"{RESULTS}/bistable/trajectories.zarr",
    output:
        scan=directory(f"{RESULTS}/bistable/scan.zarr"),
        claims=f"{RESULTS}/claims/bistable.json",
    log:
        f"{LOGS}/bistable/analysis.log",
    benchmark:
        f"{BENCHMARKS}/bistable/analysis.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cfg=job_config("bistable.analysis"),
    script:
        "../../scripts/bistable_analysis.py"


rule bistable_figures:
    input:
        f"{RESULTS}/bistable/scan.zarr",
    output:
        bifurcation_pdf=f"{RESULTS}/figures/bistable_bifurcation.pdf",
        bifurcation_png=report(
            f"{RESULTS}/figures/bistable_bifurcation.png",
            caption="../report/bistable_bifurcation.rst",
            category="Bistable neuron",
        ),
        map_pdf=f"{RESULTS}/figures/bistable_stability_map.pdf",
        map_png=report(
            f"{RESULTS}/figures/bistable_stability_map.png",
            caption="../report/bistable_stability_map.rst",
            category="Bistable neuron",
        ),
    log:
        f"{LOGS}/bistable/figures.log",
    benchmark:
        f"{BENCHMARKS}/bistable/figures.tsv"
    group:
        FIGURES_GROUP
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/bistable_figures.py"
