# Claims `takens`, `rnn-lyapunov`, `dsr-metrics`: Lorenz-63 -> RNN trained on x(t) alone (setting
# scalar) or on (x, y, z) (setting full) -> closed-loop Lyapunov spectrum, Takens topology and
# reconstruction metrics.
# data -> reference spectrum | truth (embedding, floor, AR baseline)
# | train (setting x arch x hidden x replicate, each arch with its own recipe)
# -> closed-loop analysis per network -> summary and claims per setting -> figures.

STAGE_FIGURES["lorenz"] = [
    "lorenz_attractors",
    "lorenz_persistence",
    "lorenz_spectra",
    "lorenz_intrinsic",
    "lorenz_dimension",
    "lorenz_sweep",
    "lorenz_fnn",
    "lorenz_convergence",
    "lorenz_vpt",
    "lorenz_training",
    "lorenz_dsr",
]
LORENZ = f"{RESULTS}/lorenz"

# The sweep: every setting, architecture, hidden size (the architecture's own) and replicate of the
# config, as <setting>/<arch>/h<hidden>/rep<replicate>.
LORENZ_NETWORKS = [
    f"{setting}/{arch}/h{hidden}/rep{replicate}"
    for setting in config["lorenz"]["settings"]
    for arch, recipe in config["lorenz"]["training"]["archs"].items()
    for hidden in recipe["hidden_sizes"]
    for replicate in range(config["lorenz"]["training"]["replicates"])
]
LORENZ_MODELS = [f"{LORENZ}/models/{network}.zarr" for network in LORENZ_NETWORKS]
LORENZ_ANALYSES = [f"{LORENZ}/analysis/{network}.zarr" for network in LORENZ_NETWORKS]


rule lorenz_data:
    output:
        directory(f"{LORENZ}/data.zarr"),
    log:
        f"{LOGS}/lorenz/data.log",
    benchmark:
        f"{BENCHMARKS}/lorenz/data.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=job_config("lorenz.data"),
        seed=config["seed"],
    script:
        "../../scripts/lorenz_data.py"


rule lorenz_reference:
    output:
        directory(f"{LORENZ}/reference.zarr"),
    log:
        f"{LOGS}/lorenz/reference.log",
    benchmark:
        f"{BENCHMARKS}/lorenz/reference.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=20,
    params:
        cfg=job_config("lorenz.reference", dt="lorenz.data.dt"),
        seed=config["seed"],
    script:
        "../../scripts/lorenz_reference.py"


rule lorenz_truth:
    input:
        f"{LORENZ}/data.zarr",
    output:
        directory(f"{LORENZ}/truth.zarr"),
    log:
        f"{LOGS}/lorenz/truth.log",
    benchmark:
        f"{BENCHMARKS}/lorenz/truth.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        # The truth has no network: the closed-loop spectrum's settings are not its own.
        cfg=job_config("lorenz.analysis", drop=("lyapunov",)),
        seed=config["seed"],
    script:
        "../../scripts/lorenz_truth.py"


rule lorenz_train:
    input:
        f"{LORENZ}/data.zarr",
    output:
        directory(f"{LORENZ}/models/{{setting}}/{{arch}}/h{{hidden}}/rep{{replicate}}.zarr"),
    log:
        f"{LOGS}/lorenz/train/{{setting}}/{{arch}}/h{{hidden}}/rep{{replicate}}.log",
    benchmark:
        f"{BENCHMARKS}/lorenz/train/{{setting}}/{{arch}}/h{{hidden}}/rep{{replicate}}.tsv"
    wildcard_constraints:
        setting=r"scalar|full",
        arch=r"vanilla|leaky|orthogonal|spectral|lstm|gru|linear|shplrnn",
        hidden=r"[0-9]+",
        replicate=r"[0-9]+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        # The paper config's 128-unit LSTM and GRU take about 2.2 h on one CPU core
        # (benchmarks/bench_device.py); a job past its limit resumes from its checkpoint on retry.
        runtime=240,
    params:
        # Its architecture's recipe only (options, phases): adding a setting, an architecture, a
        # hidden size or a replicate, or changing another architecture's recipe, retrains no network.
        cfg=job_config("lorenz.training.archs.{arch}", drop=("hidden_sizes",)),
        seed=config["seed"],
        device=config["device"],
    script:
        "../../scripts/lorenz_train.py"


rule lorenz_analyse:
    input:
        network=f"{LORENZ}/models/{{setting}}/{{arch}}/h{{hidden}}/rep{{replicate}}.zarr",
        data=f"{LORENZ}/data.zarr",
        truth=f"{LORENZ}/truth.zarr",
    output:
        directory(f"{LORENZ}/analysis/{{setting}}/{{arch}}/h{{hidden}}/rep{{replicate}}.zarr"),
    log:
        f"{LOGS}/lorenz/analyse/{{setting}}/{{arch}}/h{{hidden}}/rep{{replicate}}.log",
    benchmark:
        f"{BENCHMARKS}/lorenz/analyse/{{setting}}/{{arch}}/h{{hidden}}/rep{{replicate}}.tsv"
    wildcard_constraints:
        setting=r"scalar|full",
        arch=r"vanilla|leaky|orthogonal|spectral|lstm|gru|linear|shplrnn",
        hidden=r"[0-9]+",
        replicate=r"[0-9]+",
    group:
        LORENZ_ANALYSES_GROUP
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        cfg=job_config("lorenz.analysis", drop=("takens.sweep_keeps", "takens.sweep_fractions")),
        seed=config["seed"],
    script:
        "../../scripts/lorenz_analyse.py"


rule lorenz_claims:
    input:
        reference=f"{LORENZ}/reference.zarr",
        truth=f"{LORENZ}/truth.zarr",
        models=LORENZ_MODELS,
        analyses=LORENZ_ANALYSES,
    output:
        summary=directory(f"{LORENZ}/summary.zarr"),
        claims=f"{RESULTS}/claims/lorenz.json",
    log:
        f"{LOGS}/lorenz/claims.log",
    benchmark:
        f"{BENCHMARKS}/lorenz/claims.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/lorenz_claims.py"


rule lorenz_figures:
    input:
        reference=f"{LORENZ}/reference.zarr",
        truth=f"{LORENZ}/truth.zarr",
        summary=f"{LORENZ}/summary.zarr",
        models=LORENZ_MODELS,
        analyses=LORENZ_ANALYSES,
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
        intrinsic_pdf=f"{RESULTS}/figures/lorenz_intrinsic.pdf",
        intrinsic_png=report(
            f"{RESULTS}/figures/lorenz_intrinsic.png",
            caption="../report/lorenz_intrinsic.rst",
            category="Lorenz: Takens and Lyapunov",
        ),
        dimension_pdf=f"{RESULTS}/figures/lorenz_dimension.pdf",
        dimension_png=report(
            f"{RESULTS}/figures/lorenz_dimension.png",
            caption="../report/lorenz_dimension.rst",
            category="Lorenz: Takens and Lyapunov",
        ),
        sweep_pdf=f"{RESULTS}/figures/lorenz_sweep.pdf",
        sweep_png=report(
            f"{RESULTS}/figures/lorenz_sweep.png",
            caption="../report/lorenz_sweep.rst",
            category="Lorenz: Takens and Lyapunov",
        ),
        fnn_pdf=f"{RESULTS}/figures/lorenz_fnn.pdf",
        fnn_png=report(
            f"{RESULTS}/figures/lorenz_fnn.png",
            caption="../report/lorenz_fnn.rst",
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
    log:
        f"{LOGS}/lorenz/figures.log",
    benchmark:
        f"{BENCHMARKS}/lorenz/figures.tsv"
    group:
        FIGURES_GROUP
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/lorenz_figures.py"
