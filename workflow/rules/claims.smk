# Every stage's claims gathered into one table (results/claims.csv), then drawn: the overview of every
# claim, the claims page and the summary the report's landing page opens on (workflow/report/workflow.rst).

# Sorted first among the report's categories (the report lists them alphabetically).
CLAIMS_CATEGORY = "All claims"


rule claims_table:
    input:
        stage_claims,
    output:
        csv=f"{RESULTS}/claims.csv",
    log:
        f"{LOGS}/claims_table.log",
    benchmark:
        f"{BENCHMARKS}/claims_table.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../../scripts/claims_table.py"


rule claims_figures:
    input:
        f"{RESULTS}/claims.csv",
    output:
        overview_pdf=f"{RESULTS}/figures/claims_overview.pdf",
        overview_png=report(
            f"{RESULTS}/figures/claims_overview.png",
            caption="../report/claims_overview.rst",
            category=CLAIMS_CATEGORY,
        ),
        html=report(
            f"{RESULTS}/claims.html",
            caption="../report/claims.rst",
            category=CLAIMS_CATEGORY,
        ),
        landing=f"{RESULTS}/claims_landing.html",
    log:
        f"{LOGS}/claims_figures.log",
    benchmark:
        f"{BENCHMARKS}/claims_figures.tsv"
    group:
        FIGURES_GROUP
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/claims_figures.py"
