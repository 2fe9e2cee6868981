"""Training on CUDA against the CPU, and what it means for the paper config's longest jobs.

The one script to run on a GPU machine (`make venv && .venv/bin/python benchmarks/bench_device.py`).
For each family at the paper's largest Lorenz size (hidden 128, batch 64, 200-step windows of the
Lorenz x series) it prints the shared trainer's steps/s on the CPU and, when CUDA is available, on
the GPU with their ratio (the second epoch's ``steps_per_s``, the first pays start-up costs). It then
checks resumption on each device: two epochs, a stop, two more from the checkpoint, against four
in one go; on the CPU the weights must agree bit for bit, on CUDA the largest difference is printed
(cuDNN-free kernels, but atomics make CUDA sums order-dependent). Last, it projects the paper's
``lorenz_train`` jobs from the measured rates against the rule's runtime limit.

No GPU here: the CUDA columns say "n/a" and only the CPU is measured. Runs in 1-3 min on a CPU.

Usage: python benchmarks/bench_device.py [--threads 1] [--steps 4]
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import tempfile
from pathlib import Path

import numpy as np
import torch
import yaml

from rnndyn.stages.lorenz_training import build_lorenz_model, prediction_windows
from rnndyn.training import train

BATCH, LENGTH, HIDDEN = 64, 200, 128
FAMILIES = ("vanilla", "lstm", "gru")
REPO = Path(__file__).resolve().parents[1]
PAPER = REPO / "config" / "paper.yaml"


def windows(n_windows: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher-forcing pairs of a Lorenz-like signal (a noisy two-frequency series; speed only)."""
    rng = np.random.default_rng(0)
    t = np.arange(LENGTH + 1) * 0.01
    phases = rng.uniform(0, 2 * math.pi, size=(n_windows, 1))
    series = np.sin(7.0 * t + phases) + 0.3 * np.sin(23.0 * t + 2 * phases) + 0.05 * rng.standard_normal((n_windows, LENGTH + 1))
    return prediction_windows(series, LENGTH, LENGTH + 1)


def model(family: str) -> torch.nn.Module:
    return build_lorenz_model(family, HIDDEN, torch.Generator().manual_seed(0))


def steps_per_s(family: str, device: str, steps: int) -> float:
    inputs, targets = windows(BATCH * steps)
    config = {"epochs": 2, "batch_size": BATCH, "lr": 1e-3}
    result = train(model(family), (inputs, targets), config=config, seed=0, device=device)
    return float(result.history["steps_per_s"].values[-1])


def resume_difference(family: str, device: str, steps: int) -> float:
    """Largest absolute weight difference between 2 + 2 epochs (stopped, resumed) and 4 in one go."""
    inputs, targets = windows(BATCH * steps)
    config = {"epochs": 4, "batch_size": BATCH, "lr": 1e-3, "schedule": "cosine"}
    whole = model(family)
    train(whole, (inputs, targets), config=config, seed=1, device=device)
    resumed = model(family)
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = Path(folder) / "checkpoint.pt"
        train(resumed, (inputs, targets), config=config, seed=1, device=device, checkpoint_path=checkpoint,
              max_epochs_this_run=2)
        train(resumed, (inputs, targets), config=config, seed=1, device=device, checkpoint_path=checkpoint)
    pairs = zip(whole.state_dict().values(), resumed.state_dict().values())
    return max(float((a.cpu() - b.cpu()).abs().max()) for a, b in pairs)


def paper_lorenz_steps(family: str) -> list[tuple[int, int, str]]:
    """(optimiser steps, window length, mode) of each training phase of one paper lorenz_train job of
    ``family`` (its own recipe, ``lorenz.training.archs.<family>``; none if the paper config lacks it)."""
    cfg = yaml.safe_load(PAPER.read_text())["lorenz"]
    n_train, train_steps = cfg["data"]["n_train"], cfg["data"]["train_steps"]
    phases = []
    for phase in cfg["training"]["archs"].get(family, {}).get("phases", []):
        # prediction_windows: every stride-th of the T - L windows of L + 1 samples.
        per_series = math.ceil((train_steps - phase["sequence_length"]) / phase["stride"])
        per_epoch = math.ceil(n_train * per_series / phase["batch_size"])
        phases.append((per_epoch * phase["epochs"], phase["sequence_length"], phase["mode"]))
    return phases


def lorenz_train_runtime_min() -> int:
    """The time limit the lorenz_train rule asks SLURM for (its ``runtime`` resource, minutes)."""
    rules = (REPO / "workflow" / "rules" / "lorenz.smk").read_text()
    return int(re.search(r"^rule lorenz_train:.*?^        runtime=(\d+),", rules, flags=re.MULTILINE | re.DOTALL).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (a train_* job gets 1)")
    parser.add_argument("--steps", type=int, default=4, help="optimiser steps per epoch measured")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    logging.basicConfig(level=logging.WARNING)
    cuda = torch.cuda.is_available()
    gpu = torch.cuda.get_device_name(0) if cuda else "no CUDA device"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, {gpu}; batch {BATCH}, "
          f"window {LENGTH}, hidden {HIDDEN}")
    print(f"{'family':8s} {'cpu':>9s} {'cuda':>9s} {'ratio':>7s}   (steps/s)   resume: cpu diff, cuda diff")
    rates = {}
    for family in FAMILIES:
        cpu_rate = steps_per_s(family, "cpu", arguments.steps)
        cuda_rate = steps_per_s(family, "cuda", arguments.steps) if cuda else math.nan
        rates[family] = cuda_rate if cuda else cpu_rate
        cpu_diff = resume_difference(family, "cpu", arguments.steps)
        cuda_diff = f"{resume_difference(family, 'cuda', arguments.steps):.1e}" if cuda else "n/a"
        ratio = f"{cuda_rate / cpu_rate:7.1f}" if cuda else f"{'n/a':>7s}"
        cuda_text = f"{cuda_rate:9.1f}" if cuda else f"{'n/a':>9s}"
        verdict = "bitwise" if cpu_diff == 0 else f"DIFFERS by {cpu_diff:.1e}"
        print(f"{family:8s} {cpu_rate:9.1f} {cuda_text} {ratio}   cpu {verdict}, cuda {cuda_diff}")

    where = "GPU" if cuda else "CPU (no GPU here)"
    print(f"\nOne paper lorenz_train job at hidden {HIDDEN} on the {where}, from the rates above "
          f"(a rollout step costs more than a teacher-forced one; taken as equal):")
    limit = lorenz_train_runtime_min()
    for family in FAMILIES:
        phases = paper_lorenz_steps(family)
        if not phases:
            print(f"  {family:8s} not in config/paper.yaml's Lorenz recipes")
            continue
        minutes = sum(steps * length / LENGTH / rates[family] for steps, length, _ in phases) / 60
        fits = "fits" if minutes <= limit else "EXCEEDS"
        print(f"  {family:8s} {sum(s for s, _, _ in phases):6d} steps, about {minutes:6.0f} min: {fits} the "
              f"rule's {limit} min (a job past it resumes from its checkpoint on retry)")


if __name__ == "__main__":
    main()
