"""Rule claims_table: every stage's claims in results/claims.csv and an HTML table for the report."""
from pathlib import Path

from rnndyn.claims import claims_html, claims_table, read_claims
from rnndyn.logs import job_log

with job_log(snakemake.log[0]) as log:
    table = claims_table(claim for path in snakemake.input for claim in read_claims(path))
    table.to_csv(snakemake.output.csv, index=False)
    Path(snakemake.output.html).write_text(claims_html(table))
    failed = table.loc[~table["passed"], "id"].tolist()
    log.info("%d claims, %d FAILED%s", len(table), len(failed), f": {', '.join(failed)}" if failed else "")
