"""Rule euler_lorenz: largest Lyapunov exponent of the Euler or RK4 map of Lorenz-63 at one dt."""
from rnndyn.jobs import run
from rnndyn.stages.euler import lorenz_job

run(snakemake, lorenz_job)
