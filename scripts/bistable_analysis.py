"""Rule bistable_analysis: bifurcation scan, fold boundary, end states; the `bistable` claims."""
from rnndyn.jobs import run
from rnndyn.stages.bistable import analysis_job

run(snakemake, analysis_job)
