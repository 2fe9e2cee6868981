# Every stage's claims gathered into one table: results/claims.csv and its report page.


rule claims_table:
    input:
        stage_claims,
    output:
        csv=f"{RESULTS}/claims.csv",
        html=report(
            f"{RESULTS}/claims.html",
            caption="../report/claims.rst",
            category="Claims",
        ),
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
