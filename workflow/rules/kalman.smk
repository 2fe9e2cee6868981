# Claim `kalman`: the steady-state Kalman predictor is a linear RNN; trained RNNs recover it.
# Data per system -> one training job per system x model x seed -> analysis and claims -> figures.

STAGE_FIGURES["kalman"] = ["kalman_gap", "kalman_eigenvalues", "kalman_impulse_response"]


# (system, model, seed) of every training job of the config.
KALMAN_RUNS = [
    (system, model, seed)
    for system in config["kalman"]["systems"]
    for model in config["kalman"]["models"]
    for seed in range(config["kalman"]["n_seeds"])
]


rule kalman_data:
    wildcard_constraints:
        system=r"[a-z0-9_]+",
    output:
        directory(f"{RESULTS}/kalman/data/{{system}}.zarr"),
    params:
        spec=lambda w: config["kalman"]["systems"][w.system],
        data=config["kalman"]["data"],
        seed=config["seed"],
    log:
        f"{LOGS}/kalman/data_{{system}}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/kalman_data.py"


rule train_kalman:
    wildcard_constraints:
        system=r"[a-z0-9_]+",
        model=r"[a-z0-9_]+",
        seed=r"[0-9]+",
    input:
        f"{RESULTS}/kalman/data/{{system}}.zarr",
    output:
        directory(f"{RESULTS}/kalman/models/{{system}}/{{model}}/seed{{seed}}.zarr"),
    params:
        model_cfg=lambda w: config["kalman"]["models"][w.model],
        seed=config["seed"],
        device=config["device"],
        checkpoint=f"{RESULTS}/checkpoints/kalman/{{system}}/{{model}}/seed{{seed}}.pt",
    log:
        f"{LOGS}/kalman/train_{{system}}_{{model}}_seed{{seed}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        ENV
    script:
        "../../scripts/train_kalman.py"


rule kalman_analysis:
    input:
        data=[f"{RESULTS}/kalman/data/{system}.zarr" for system in config["kalman"]["systems"]],
        runs=[
            f"{RESULTS}/kalman/models/{system}/{model}/seed{seed}.zarr"
            for system, model, seed in KALMAN_RUNS
        ],
    output:
        analysis=directory(f"{RESULTS}/kalman/analysis.zarr"),
        claims=f"{RESULTS}/claims/kalman.json",
    params:
        cfg=config["kalman"],
        systems=list(config["kalman"]["systems"]),
        runs=KALMAN_RUNS,
    log:
        f"{LOGS}/kalman/analysis.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
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
        eig_pdf=f"{RESULTS}/figures/kalman_eigenvalues.pdf",
        eig_png=report(
            f"{RESULTS}/figures/kalman_eigenvalues.png",
            caption="../report/kalman_eigenvalues.rst",
            category="Kalman filter",
        ),
        impulse_pdf=f"{RESULTS}/figures/kalman_impulse_response.pdf",
        impulse_png=report(
            f"{RESULTS}/figures/kalman_impulse_response.png",
            caption="../report/kalman_impulse_response.rst",
            category="Kalman filter",
        ),
    log:
        f"{LOGS}/kalman/figures.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    group:
        FIGURES_GROUP
    conda:
        ENV
    script:
        "../../scripts/kalman_figures.py"
