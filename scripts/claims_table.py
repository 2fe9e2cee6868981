"""Rule claims_table: every stage's claims in results/claims.csv."""
from rnndyn.claims import table_job
from rnndyn.jobs import run

run(snakemake, table_job)
