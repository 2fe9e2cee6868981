# Claims `takens`, `rnn-lyapunov`, `dsr-metrics`: Lorenz-63 -> RNN trained on x(t) alone -> closed-loop
# Lyapunov spectrum, Takens topology and reconstruction metrics.
# data -> reference spectrum | truth (embedding, floor, AR baseline) | train (arch x hidden x seed)
# -> closed-loop analysis per network -> summary and claims -> figures.

STAGE_FIGURES["lorenz"] = [
    "lorenz_attractors", "lorenz_persistence", "lorenz_spectra", "lorenz_convergence", "lorenz_vpt", "lorenz_training", "lorenz_dsr",
]
LORENZ = f"{RESULTS}/lorenz"


# Every trained network of the config, as <arch>_h<hidden>_s<seed>, and its stores.
LORENZ_LABELS = [
    f"{arch}_h{hidden}_s{seed}"
    for arch in config["lorenz"]["training"]["architectures"]
    for hidden in config["lorenz"]["training"]["hidden_sizes"]
    for seed in config["lorenz"]["training"]["seeds"]
]
LORENZ_MODEL_STORES = [f"{LORENZ}/models/{label}.zarr" for label in LORENZ_LABELS]
LORENZ_ANALYSIS_STORES = [f"{LORENZ}/analysis/{label}.zarr" for label in LORENZ_LABELS]


rule lorenz_data:
    output:
        directory(f"{LORENZ}/data.zarr"),
    params:
        cfg=config["lorenz"]["data"],
        base_seed=config["seed"],
    log:
        f"{LOGS}/lorenz/data.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/lorenz_data.py"


rule lorenz_reference:
    output:
        directory(f"{LORENZ}/reference.zarr"),
    params:
        cfg=config["lorenz"]["reference"],
        dt=config["lorenz"]["data"]["dt"],
        base_seed=config["seed"],
    log:
        f"{LOGS}/lorenz/reference.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=20,
    conda:
        ENV
    script:
        "../../scripts/lorenz_reference.py"


rule lorenz_truth:
    input:
        f"{LORENZ}/data.zarr",
    output:
        directory(f"{LORENZ}/truth.zarr"),
    params:
        cfg=config["lorenz"]["analysis"],
        base_seed=config["seed"],
    log:
        f"{LOGS}/lorenz/truth.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        ENV
    script:
        "../../scripts/lorenz_truth.py"


rule train_lorenz:
    input:
        f"{LORENZ}/data.zarr",
    output:
        directory(f"{LORENZ}/models/{{arch}}_h{{hidden}}_s{{seed}}.zarr"),
    wildcard_constraints:
        arch=r"[a-z]+",
        hidden=r"[0-9]+",
        seed=r"[0-9]+",
    params:
        cfg=config["lorenz"]["training"],
        base_seed=config["seed"],
        device=config["device"],
        checkpoint_dir=f"{RESULTS}/checkpoints/lorenz",
    log:
        f"{LOGS}/lorenz/train_{{arch}}_h{{hidden}}_s{{seed}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        # The paper config's 128-unit LSTM and GRU take about 2.2 h on one CPU core
        # (benchmarks/bench_device.py); a job past its limit resumes from its checkpoint on retry.
        runtime=240,
    conda:
        ENV
    script:
        "../../scripts/lorenz_train.py"


rule lorenz_analyse:
    input:
        model=f"{LORENZ}/models/{{arch}}_h{{hidden}}_s{{seed}}.zarr",
        data=f"{LORENZ}/data.zarr",
        truth=f"{LORENZ}/truth.zarr",
    output:
        directory(f"{LORENZ}/analysis/{{arch}}_h{{hidden}}_s{{seed}}.zarr"),
    wildcard_constraints:
        arch=r"[a-z]+",
        hidden=r"[0-9]+",
        seed=r"[0-9]+",
    params:
        cfg=config["lorenz"]["analysis"],
        base_seed=config["seed"],
    log:
        f"{LOGS}/lorenz/analyse_{{arch}}_h{{hidden}}_s{{seed}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    group:
        LORENZ_ANALYSES_GROUP
    conda:
        ENV
    script:
        "../../scripts/lorenz_analyse.py"


rule lorenz_claims:
    input:
        reference=f"{LORENZ}/reference.zarr",
        truth=f"{LORENZ}/truth.zarr",
        models=LORENZ_MODEL_STORES,
        analyses=LORENZ_ANALYSIS_STORES,
    output:
        summary=directory(f"{LORENZ}/summary.zarr"),
        claims=f"{RESULTS}/claims/lorenz.json",
    params:
        labels=LORENZ_LABELS,
    log:
        f"{LOGS}/lorenz/claims.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/lorenz_claims.py"


rule lorenz_figures:
    input:
        reference=f"{LORENZ}/reference.zarr",
        truth=f"{LORENZ}/truth.zarr",
        summary=f"{LORENZ}/summary.zarr",
        models=LORENZ_MODEL_STORES,
        analyses=LORENZ_ANALYSIS_STORES,
    output:
        attractors_pdf=f"{RESULTS}/figures/lorenz_attractors.pdf",
        attractors_png=report(
            f"{RESULTS}/figures/lorenz_attractors.png",
            caption="../report/lorenz_attractors.rst",
            category="Lorenz: Takens and Lyapunov",
        ),
        persistence_pdf=f"{RESULTS}/figures/lorenz_persistence.pdf",
        persistence_png=report(
            f"{RESULTS}/figures/lorenz_persistence.png",
            caption="../report/lorenz_persistence.rst",
            category="Lorenz: Takens and Lyapunov",
        ),
        spectra_pdf=f"{RESULTS}/figures/lorenz_spectra.pdf",
        spectra_png=report(
            f"{RESULTS}/figures/lorenz_spectra.png",
            caption="../report/lorenz_spectra.rst",
            category="Lorenz: Takens and Lyapunov",
        ),
        convergence_pdf=f"{RESULTS}/figures/lorenz_convergence.pdf",
        convergence_png=report(
            f"{RESULTS}/figures/lorenz_convergence.png",
            caption="../report/lorenz_convergence.rst",
            category="Lorenz: Takens and Lyapunov",
        ),
        vpt_pdf=f"{RESULTS}/figures/lorenz_vpt.pdf",
        vpt_png=report(
            f"{RESULTS}/figures/lorenz_vpt.png",
            caption="../report/lorenz_vpt.rst",
            category="Lorenz: Takens and Lyapunov",
        ),
        training_pdf=f"{RESULTS}/figures/lorenz_training.pdf",
        training_png=report(
            f"{RESULTS}/figures/lorenz_training.png",
            caption="../report/lorenz_training.rst",
            category="Lorenz: Takens and Lyapunov",
        ),
        dsr_pdf=f"{RESULTS}/figures/lorenz_dsr.pdf",
        dsr_png=report(
            f"{RESULTS}/figures/lorenz_dsr.png",
            caption="../report/lorenz_dsr.rst",
            category="Lorenz: Takens and Lyapunov",
        ),
    params:
        labels=LORENZ_LABELS,
    log:
        f"{LOGS}/lorenz/figures.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    group:
        FIGURES_GROUP
    conda:
        ENV
    script:
        "../../scripts/lorenz_figures.py"
