"""Rule kalman_train: one network (system x arch x replicate) trained to predict y_{t+1} from y_{<=t}."""
from rnndyn.jobs import run
from rnndyn.stages.kalman_networks import train_job

run(snakemake, train_job)
