# Claim `lyapunov-gradient`: random tanh networks h <- tanh(g J h + u); one job per size x replicate
# (batched over g and drive inside), then one analysis job for the summary and claims, then figures.

STAGE_FIGURES["chaos"] = ["chaos_lambda1", "chaos_onset", "chaos_spectra", "chaos_gradients"]


# One sweep store per network size and replicate of the config.
CHAOS_SWEEPS = [
    f"{RESULTS}/chaos/sweeps/N{n}/rep{replicate}.zarr"
    for n in config["chaos"]["sizes"]
    for replicate in range(config["chaos"]["replicates"])
]


# One onset store per size of the finite-size sweep (every replicate network inside).
CHAOS_ONSETS = [f"{RESULTS}/chaos/onset/N{n}.zarr" for n in config["chaos"]["onset"]["sizes"]]


# Sized for the job's N: the full spectrum costs O(N^3) per step (about 4 h on one core at
# N = 1024 with config/paper.yaml); the BPTT windows hold g x drive x trajectory x n_lags states.
rule chaos_sweep:
    output:
        directory(f"{RESULTS}/chaos/sweeps/N{{n}}/rep{{replicate}}.zarr"),
    log:
        f"{LOGS}/chaos/sweep/N{{n}}/rep{{replicate}}.log",
    benchmark:
        f"{BENCHMARKS}/chaos/sweep/N{{n}}/rep{{replicate}}.tsv"
    wildcard_constraints:
        n=r"[0-9]+",
        replicate=r"[0-9]+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=chaos_sweep_mem_mb,
        runtime=chaos_sweep_runtime,
    params:
        cfg=job_config("chaos", drop=("sizes", "replicates", "analysis", "onset")),
        seed=config["seed"],
        device=config["device"],
    script:
        "../../scripts/chaos_sweep.py"


# lambda1 alone on the gain grid: per replicate and step one (N x N) @ (N x 2 G D) product (float32 by
# default), about 17 s on one core at N = 1024 with 8 replicates (measured; the default), an estimated half hour
# at N = 4096 with config/paper.yaml (16 replicates, 3,200 steps).
rule chaos_onset:
    output:
        directory(f"{RESULTS}/chaos/onset/N{{n}}.zarr"),
    log:
        f"{LOGS}/chaos/onset/N{{n}}.log",
    benchmark:
        f"{BENCHMARKS}/chaos/onset/N{{n}}.tsv"
    wildcard_constraints:
        n=r"[0-9]+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=chaos_sweep_mem_mb,
        runtime=chaos_sweep_runtime,
    params:
        cfg=job_config("chaos.onset", drop=("sizes",), drive="chaos.drive"),
        seed=config["seed"],
        device=config["device"],
    script:
        "../../scripts/chaos_onset.py"


rule chaos_analysis:
    input:
        sweeps=CHAOS_SWEEPS,
        onsets=CHAOS_ONSETS,
    output:
        summary=directory(f"{RESULTS}/chaos/summary.zarr"),
        onset=directory(f"{RESULTS}/chaos/onset_summary.zarr"),
        claims=f"{RESULTS}/claims/chaos.json",
    log:
        f"{LOGS}/chaos/analysis.log",
    benchmark:
        f"{BENCHMARKS}/chaos/analysis.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cfg=job_config("chaos.analysis"),
        seed=config["seed"],
    script:
        "../../scripts/chaos_analysis.py"


rule chaos_figures:
    input:
        summary=f"{RESULTS}/chaos/summary.zarr",
        onset=f"{RESULTS}/chaos/onset_summary.zarr",
    output:
        onset_pdf=f"{RESULTS}/figures/chaos_onset.pdf",
        onset_png=report(
            f"{RESULTS}/figures/chaos_onset.png",
            caption="../report/chaos_onset.rst",
            category="Edge of chaos",
        ),
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
    group:
        FIGURES_GROUP
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/chaos_figures.py"
