# Claim `lyapunov-gradient`: random tanh networks h <- tanh(g J h + u); one job per size x replicate
# (batched over g and drive inside), then one analysis job for the summary and claims, then figures.

STAGE_FIGURES["chaos"] = ["chaos_lambda1", "chaos_spectra", "chaos_gradients"]


# One sweep store per network size and replicate of the config.
CHAOS_SWEEPS = [
    f"{RESULTS}/chaos/sweeps/N{n}/rep{replicate}.zarr"
    for n in config["chaos"]["sizes"]
    for replicate in range(config["chaos"]["replicates"])
]


# Sized for the job's N: the full spectrum costs O(N^3) per step (about 4 h on one core at
# N = 1024 with config/paper.yaml); the BPTT windows hold g x drive x trajectory x n_lags states.
def chaos_sweep_mem_mb(wildcards):
    """Memory (MB) of the sweep of one network of size N."""
    return 1000 + int(3000 * int(wildcards.n) / 1024)


def chaos_sweep_runtime(wildcards):
    """Run time (min) of the sweep of one network of size N."""
    return 10 + int(300 * (int(wildcards.n) / 1024) ** 3)


rule chaos_sweep:
    output:
        directory(f"{RESULTS}/chaos/sweeps/N{{n}}/rep{{replicate}}.zarr"),
    wildcard_constraints:
        n=r"[0-9]+",
        replicate=r"[0-9]+",
    params:
        cfg=job_config("chaos", drop=("sizes", "replicates", "analysis")),
        seed=config["seed"],
        device=config["device"],
    log:
        f"{LOGS}/chaos/sweep/N{{n}}/rep{{replicate}}.log",
    benchmark:
        f"{BENCHMARKS}/chaos/sweep/N{{n}}/rep{{replicate}}.tsv"
    threads: 1
    resources:
        mem_mb=chaos_sweep_mem_mb,
        runtime=chaos_sweep_runtime,
    conda:
        ENV
    script:
        "../../scripts/chaos_sweep.py"


rule chaos_analysis:
    input:
        sweeps=CHAOS_SWEEPS,
    output:
        summary=directory(f"{RESULTS}/chaos/summary.zarr"),
        claims=f"{RESULTS}/claims/chaos.json",
    params:
        cfg=job_config("chaos.analysis"),
    log:
        f"{LOGS}/chaos/analysis.log",
    benchmark:
        f"{BENCHMARKS}/chaos/analysis.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/chaos_analysis.py"


rule chaos_figures:
    input:
        f"{RESULTS}/chaos/summary.zarr",
    output:
        lambda1_pdf=f"{RESULTS}/figures/chaos_lambda1.pdf",
        lambda1_png=report(
            f"{RESULTS}/figures/chaos_lambda1.png",
            caption="../report/chaos_lambda1.rst",
            category="Edge of chaos",
        ),
        spectra_pdf=f"{RESULTS}/figures/chaos_spectra.pdf",
        spectra_png=report(
            f"{RESULTS}/figures/chaos_spectra.png",
            caption="../report/chaos_spectra.rst",
            category="Edge of chaos",
        ),
        gradients_pdf=f"{RESULTS}/figures/chaos_gradients.pdf",
        gradients_png=report(
            f"{RESULTS}/figures/chaos_gradients.png",
            caption="../report/chaos_gradients.rst",
            category="Edge of chaos",
        ),
    log:
        f"{LOGS}/chaos/figures.log",
    benchmark:
        f"{BENCHMARKS}/chaos/figures.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    group:
        FIGURES_GROUP
    conda:
        ENV
    script:
        "../../scripts/chaos_figures.py"
