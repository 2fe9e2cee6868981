# Claim `lyapunov-gradient`: random tanh networks h <- tanh(g J h + u); one job per size x seed
# (batched over g and drive inside), then one analysis job for the claims, then figures.

STAGE_FIGURES["chaos"] = ["chaos_lambda1", "chaos_spectra", "chaos_gradients"]


# One sweep store per network size and seed of the config.
CHAOS_SWEEPS = [
    f"{RESULTS}/chaos/sweep_N{n}_seed{seed}.zarr"
    for n in config["chaos"]["sizes"]
    for seed in range(config["chaos"]["n_seeds"])
]


rule chaos_sweep:
    output:
        directory(f"{RESULTS}/chaos/sweep_N{{n}}_seed{{seed}}.zarr"),
    wildcard_constraints:
        n=r"[0-9]+",
        seed=r"[0-9]+",
    params:
        cfg=config["chaos"],
        seed=config["seed"],
        device=config["device"],
    log:
        f"{LOGS}/chaos/sweep_N{{n}}_seed{{seed}}.log",
    threads: 1
    # Sized for the job's N: the full spectrum costs O(N^3) per step (about 4 h on one core at
    # N = 1024 with config/paper.yaml); the BPTT windows hold g x drive x trajectory x n_lags states.
    resources:
        mem_mb=lambda w: 1000 + int(3000 * int(w.n) / 1024),
        runtime=lambda w: 10 + int(300 * (int(w.n) / 1024) ** 3),
    conda:
        ENV
    script:
        "../../scripts/chaos_sweep.py"


rule chaos_analysis:
    input:
        CHAOS_SWEEPS,
    output:
        summary=directory(f"{RESULTS}/chaos/summary.zarr"),
        claims=f"{RESULTS}/claims/chaos.json",
    params:
        cfg=config["chaos"],
    log:
        f"{LOGS}/chaos/analysis.log",
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
