# Claims `memory` and `linear-fixed-point`: the linear RNN h_t = W h_{t-1} + U x_t over a sweep of
# rho(W); one analysis job (no training), then figures.

STAGE_FIGURES["linear"] = ["linear_impulse_response", "linear_convergence"]


rule linear_analysis:
    output:
        sweep=directory(f"{RESULTS}/linear/sweep.zarr"),
        claims=f"{RESULTS}/claims/linear.json",
    log:
        f"{LOGS}/linear/analysis.log",
    benchmark:
        f"{BENCHMARKS}/linear/analysis.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=job_config("linear"),
        seed=config["seed"],
    script:
        "../../scripts/linear_analysis.py"


rule linear_figures:
    input:
        f"{RESULTS}/linear/sweep.zarr",
    output:
        impulse_pdf=f"{RESULTS}/figures/linear_impulse_response.pdf",
        impulse_png=report(
            f"{RESULTS}/figures/linear_impulse_response.png",
            caption="../report/linear_impulse_response.rst",
            category="Linear RNN",
        ),
        convergence_pdf=f"{RESULTS}/figures/linear_convergence.pdf",
        convergence_png=report(
            f"{RESULTS}/figures/linear_convergence.png",
            caption="../report/linear_convergence.rst",
            category="Linear RNN",
        ),
    log:
        f"{LOGS}/linear/figures.log",
    benchmark:
        f"{BENCHMARKS}/linear/figures.tsv"
    group:
        FIGURES_GROUP
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/linear_figures.py"
