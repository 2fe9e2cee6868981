# Claim `kalman`: the steady-state Kalman predictor is a linear RNN; trained RNNs recover it.
# Data per system -> one training job per system x arch x replicate -> analysis and claims -> figures.
# The noise sweep is a list of the systems (canonical, differing only in r^2), not jobs of its own.

STAGE_FIGURES["kalman"] = [
    "kalman_gap",
    "kalman_noise_sweep",
    "kalman_eigenvalues",
    "kalman_impulse_response",
]

_unknown_sweep = set(config["kalman"]["noise_sweep"]) - set(config["kalman"]["systems"])
if _unknown_sweep:
    raise ValueError(f"kalman.noise_sweep names systems not in kalman.systems: {sorted(_unknown_sweep)}")


rule kalman_data:
    output:
        directory(f"{RESULTS}/kalman/data/{{system}}.zarr"),
    log:
        f"{LOGS}/kalman/data/{{system}}.log",
    benchmark:
        f"{BENCHMARKS}/kalman/data/{{system}}.tsv"
    wildcard_constraints:
        system=r"[a-z0-9_]+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=job_config(system="kalman.systems.{system}", data="kalman.data"),
        seed=config["seed"],
    script:
        "../../scripts/kalman_data.py"


rule kalman_train:
    input:
        f"{RESULTS}/kalman/data/{{system}}.zarr",
    output:
        directory(f"{RESULTS}/kalman/models/{{system}}/{{arch}}/rep{{replicate}}.zarr"),
    log:
        f"{LOGS}/kalman/train/{{system}}/{{arch}}/rep{{replicate}}.log",
    benchmark:
        f"{BENCHMARKS}/kalman/train/{{system}}/{{arch}}/rep{{replicate}}.tsv"
    wildcard_constraints:
        system=r"[a-z0-9_]+",
        arch=r"[a-z0-9_]+",
        replicate=r"[0-9]+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        cfg=job_config("kalman.archs.{arch}"),
        seed=config["seed"],
        device=config["device"],
    script:
        "../../scripts/kalman_train.py"


rule kalman_analysis:
    input:
        data=[f"{RESULTS}/kalman/data/{system}.zarr" for system in config["kalman"]["systems"]],
        networks=[
            f"{RESULTS}/kalman/models/{system}/{arch}/rep{replicate}.zarr"
            for system in config["kalman"]["systems"]
            for arch in config["kalman"]["archs"]
            for replicate in range(config["kalman"]["replicates"])
        ],
    output:
        analysis=directory(f"{RESULTS}/kalman/analysis.zarr"),
        claims=f"{RESULTS}/claims/kalman.json",
    log:
        f"{LOGS}/kalman/analysis.log",
    benchmark:
        f"{BENCHMARKS}/kalman/analysis.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cfg=job_config("kalman.analysis", noise_sweep="kalman.noise_sweep"),
    script:
        "../../scripts/kalman_analysis.py"


rule kalman_figures:
    input:
        f"{RESULTS}/kalman/analysis.zarr",
    output:
        gap_pdf=f"{RESULTS}/figures/kalman_gap.pdf",
        gap_png=report(
            f"{RESULTS}/figures/kalman_gap.png",
            caption="../report/kalman_gap.rst",
            category="Kalman filter",
        ),
        noise_sweep_pdf=f"{RESULTS}/figures/kalman_noise_sweep.pdf",
        noise_sweep_png=report(
            f"{RESULTS}/figures/kalman_noise_sweep.png",
            caption="../report/kalman_noise_sweep.rst",
            category="Kalman filter",
        ),
        eigenvalues_pdf=f"{RESULTS}/figures/kalman_eigenvalues.pdf",
        eigenvalues_png=report(
            f"{RESULTS}/figures/kalman_eigenvalues.png",
            caption="../report/kalman_eigenvalues.rst",
            category="Kalman filter",
        ),
        impulse_response_pdf=f"{RESULTS}/figures/kalman_impulse_response.pdf",
        impulse_response_png=report(
            f"{RESULTS}/figures/kalman_impulse_response.png",
            caption="../report/kalman_impulse_response.rst",
            category="Kalman filter",
        ),
    log:
        f"{LOGS}/kalman/figures.log",
    benchmark:
        f"{BENCHMARKS}/kalman/figures.tsv"
    group:
        FIGURES_GROUP
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/kalman_figures.py"
