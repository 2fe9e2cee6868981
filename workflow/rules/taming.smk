# Claim `taming`: gradient norm against lag at initialisation and the leaky time constants (one job);
# the copy task: one network per architecture x delay x replicate, trained (taming_train) then
# analysed (taming_analyse), one job per architecture x replicate; the summary over every network and
# the claims; the figures.

STAGE_FIGURES["taming"] = ["taming_copy", "taming_gradients", "taming_lambda1"]

# The sweep of the copy task: one network per architecture, delay and replicate; one training job and one
# analysis job per architecture and replicate (all delays: a job's start-up costs more than a network).
# The stores of one (arch, replicate) job, one per delay in the order of copy.delays (the job's output i).
TAMING_DELAYS = config["taming"]["copy"]["delays"]
TAMING_MODELS = [f"{RESULTS}/taming/models/{{arch}}/L{delay}/rep{{replicate}}.zarr" for delay in TAMING_DELAYS]
TAMING_ANALYSES = [f"{RESULTS}/taming/analysis/{{arch}}/L{delay}/rep{{replicate}}.zarr" for delay in TAMING_DELAYS]


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
        [directory(path) for path in TAMING_MODELS],
    log:
        f"{LOGS}/taming/train/{{arch}}/rep{{replicate}}.log",
    benchmark:
        f"{BENCHMARKS}/taming/train/{{arch}}/rep{{replicate}}.tsv"
    wildcard_constraints:
        arch=r"vanilla|spectral|orthogonal|leaky|lstm|gru",
        replicate=r"[0-9]+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        # minutes: one network per delay, trained one after the other
        runtime=60 * len(TAMING_DELAYS),
    params:
        cfg=job_config(
            "taming",
            drop=("archs", "replicates", "init", "leaky", "lyapunov", "analysis"),
        ),
        seed=config["seed"],
        device=config["device"],
    script:
        "../../scripts/taming_train.py"


rule taming_analyse:
    input:
        TAMING_MODELS,
    output:
        [directory(path) for path in TAMING_ANALYSES],
    log:
        f"{LOGS}/taming/analyse/{{arch}}/rep{{replicate}}.log",
    benchmark:
        f"{BENCHMARKS}/taming/analyse/{{arch}}/rep{{replicate}}.tsv"
    wildcard_constraints:
        arch=r"vanilla|spectral|orthogonal|leaky|lstm|gru",
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
        analyses=[
            f"{RESULTS}/taming/analysis/{arch}/L{delay}/rep{replicate}.zarr"
            for arch in config["taming"]["archs"]
            for delay in TAMING_DELAYS
            for replicate in range(config["taming"]["replicates"])
        ],
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
        cfg=job_config("taming", keep=("analysis", "train.epochs", "copy.n_train", "copy.n_symbols", "copy.length")),
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
