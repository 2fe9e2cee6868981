# Claim `taming`: gradient norm against lag at initialisation and the leaky time constant (one job);
# the copy task: one network per architecture x delay x replicate, trained (taming_train) then
# analysed (taming_analyse); the summary over every network and the claims; the figures.

STAGE_FIGURES["taming"] = ["taming_copy", "taming_gradients", "taming_lambda1"]

# The sweep of the copy task: every architecture, delay and replicate of the config.
TAMING_NETWORKS = [
    f"{arch}/L{delay}/rep{replicate}"
    for arch in config["taming"]["archs"]
    for delay in config["taming"]["copy"]["delays"]
    for replicate in range(config["taming"]["replicates"])
]


rule taming_init:
    output:
        directory(f"{RESULTS}/taming/init.zarr"),
    log:
        f"{LOGS}/taming/init.log",
    benchmark:
        f"{BENCHMARKS}/taming/init.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=job_config(
            "taming",
            drop=("replicates", "copy.delays", "copy.n_train", "copy.n_test", "train", "lyapunov", "analysis"),
        ),
        seed=config["seed"],
    script:
        "../../scripts/taming_init.py"


rule taming_train:
    output:
        directory(f"{RESULTS}/taming/models/{{arch}}/L{{delay}}/rep{{replicate}}.zarr"),
    log:
        f"{LOGS}/taming/train/{{arch}}/L{{delay}}/rep{{replicate}}.log",
    benchmark:
        f"{BENCHMARKS}/taming/train/{{arch}}/L{{delay}}/rep{{replicate}}.tsv"
    wildcard_constraints:
        arch=r"vanilla|spectral|orthogonal|leaky|lstm|gru",
        delay=r"[0-9]+",
        replicate=r"[0-9]+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        cfg=job_config(
            "taming",
            drop=("archs", "replicates", "copy.delays", "init", "leaky", "lyapunov", "analysis"),
        ),
        seed=config["seed"],
        device=config["device"],
    script:
        "../../scripts/taming_train.py"


rule taming_analyse:
    input:
        f"{RESULTS}/taming/models/{{arch}}/L{{delay}}/rep{{replicate}}.zarr",
    output:
        directory(f"{RESULTS}/taming/analysis/{{arch}}/L{{delay}}/rep{{replicate}}.zarr"),
    log:
        f"{LOGS}/taming/analyse/{{arch}}/L{{delay}}/rep{{replicate}}.log",
    benchmark:
        f"{BENCHMARKS}/taming/analyse/{{arch}}/L{{delay}}/rep{{replicate}}.tsv"
    wildcard_constraints:
        arch=r"vanilla|spectral|orthogonal|leaky|lstm|gru",
        delay=r"[0-9]+",
        replicate=r"[0-9]+",
    group:
        TAMING_ANALYSES_GROUP
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        # The test trials, lambda1 and the gradient norms' trials.
        cfg=job_config("taming", keep=("copy.n_symbols", "copy.length", "copy.n_test", "init.n_trials", "lyapunov")),
        seed=config["seed"],
    script:
        "../../scripts/taming_analyse.py"


rule taming_claims:
    input:
        init=f"{RESULTS}/taming/init.zarr",
        analyses=[f"{RESULTS}/taming/analysis/{network}.zarr" for network in TAMING_NETWORKS],
    output:
        summary=directory(f"{RESULTS}/taming/summary.zarr"),
        claims=f"{RESULTS}/claims/taming.json",
    log:
        f"{LOGS}/taming/claims.log",
    benchmark:
        f"{BENCHMARKS}/taming/claims.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        # The claims' tolerances and the training budget their notes report.
        cfg=job_config("taming", keep=("analysis", "train.epochs", "copy.n_train")),
    script:
        "../../scripts/taming_claims.py"


rule taming_figures:
    input:
        f"{RESULTS}/taming/summary.zarr",
    output:
        copy_pdf=f"{RESULTS}/figures/taming_copy.pdf",
        copy_png=report(
            f"{RESULTS}/figures/taming_copy.png",
            caption="../report/taming_copy.rst",
            category="Taming gradients",
        ),
        gradients_pdf=f"{RESULTS}/figures/taming_gradients.pdf",
        gradients_png=report(
            f"{RESULTS}/figures/taming_gradients.png",
            caption="../report/taming_gradients.rst",
            category="Taming gradients",
        ),
        lambda1_pdf=f"{RESULTS}/figures/taming_lambda1.pdf",
        lambda1_png=report(
            f"{RESULTS}/figures/taming_lambda1.png",
            caption="../report/taming_lambda1.rst",
            category="Taming gradients",
        ),
    log:
        f"{LOGS}/taming/figures.log",
    benchmark:
        f"{BENCHMARKS}/taming/figures.tsv"
    group:
        FIGURES_GROUP
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/taming_figures.py"
