"""Training-step throughput of rnndyn.training.train against PyTorch's fused modules.

Same batch (64 sequences x 200 steps, 3 channels), hidden size 128, Adam and MSE loss
everywhere; every loop draws a random minibatch order and gathers the batches, as the trainer
does. Three rates per family, in optimiser steps per second:

- ``fused``: a plain ``nn.RNN``/``nn.LSTM``/``nn.GRU`` + ``nn.Linear`` loop, PyTorch's fused
  sequence kernels (cuDNN on a GPU); the shPLRNN has no fused module, so its reference is the
  bare loop below;
- ``bare``: the same loop over the study's model (``model.outputs``, what the trainer's
  teacher-forced objective calls);
- ``trainer``: one epoch of :func:`rnndyn.training.train` (its second epoch; the first pays
  first-call costs), timed from the trainer's per-epoch callback, every once-per-epoch overhead
  included.

Target (issue 11): trainer >= 0.90 x fused for every family in teacher-forced training.

The clock is the process's CPU time by default: on a shared machine wall time measures the
other jobs as much as this one (the trainer's own ``steps_per_s`` history is wall time). Use
``--clock wall`` on an idle machine or a GPU. Measurements of the three loops are interleaved
and the best of ``--repeats`` is kept. Measured 2026-12-02 (torch 2.13 CPU, 2 threads, idle
machine, wall clock): nn.RNN 35 steps/s, nn.LSTM 20, nn.GRU 15; the trainer at 0.97-1.11 x fused.
Runs in under a minute.

Usage: python benchmarks/bench_trainer.py [--threads 1] [--steps 6] [--repeats 3] [--clock cpu]
"""

from __future__ import annotations

import argparse
import logging
import time

import torch
import torch.nn.functional as F
from torch import nn

from rnndyn.models import build_model
from rnndyn.training import train

BATCH, LENGTH, CHANNELS, HIDDEN, LR = 64, 200, 3, 128, 1e-3
FAMILIES = ("vanilla", "lstm", "gru", "shplrnn")
FUSED_MODULES = {"vanilla": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
TARGET_RATIO = 0.90
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def data(steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    series = torch.randn(BATCH * steps, LENGTH + 1, CHANNELS, generator=generator)
    return series[:, :-1].contiguous(), series[:, 1:].contiguous()


def timed_loop(forward, parameters, inputs, targets, clock) -> float:
    """Steps per second of a bare Adam loop over one random permutation of the data."""
    optimizer = torch.optim.Adam(parameters, lr=LR)
    order = torch.randperm(inputs.shape[0], generator=torch.Generator().manual_seed(0))
    batches = order.split(BATCH)
    optimizer.zero_grad()
    F.mse_loss(forward(inputs[batches[0]]), targets[batches[0]]).backward()  # warm-up step
    started = clock()
    for batch in batches:
        optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(forward(inputs[batch]), targets[batch])
        loss.backward()
        optimizer.step()
    return len(batches) / (clock() - started)


def model(family: str):
    return build_model(
        family,
        input_size=CHANNELS,
        hidden_size=HIDDEN,
        output_size=CHANNELS,
        generator=torch.Generator().manual_seed(0),
    )


def bare(family: str, inputs, targets, clock) -> float:
    network = model(family)
    return timed_loop(network.outputs, list(network.parameters()), inputs, targets, clock)


def fused(family: str, inputs, targets, clock) -> float:
    if family not in FUSED_MODULES:
        return bare(family, inputs, targets, clock)
    recurrent = FUSED_MODULES[family](CHANNELS, HIDDEN, batch_first=True)
    readout = nn.Linear(HIDDEN, CHANNELS)
    parameters = [*recurrent.parameters(), *readout.parameters()]
    return timed_loop(lambda x: readout(recurrent(x)[0]), parameters, inputs, targets, clock)


def trainer(family: str, inputs, targets, clock) -> float:
    config = {"epochs": 2, "batch_size": BATCH, "lr": LR}
    marks = []
    train(model(family), (inputs, targets), config=config, seed=0, device="cpu",
          callback=lambda epoch, record: marks.append(clock()))
    return (inputs.shape[0] // BATCH) / (marks[1] - marks[0])  # epoch 1 pays first-call costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=int, default=1, help="2 matches the reference; 1 is steadier when shared"
    )
    parser.add_argument("--steps", type=int, default=6, help="optimiser steps per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many measurements")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                        help="cpu: process CPU time (steady on a shared machine); wall: elapsed")
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    logging.basicConfig(level=logging.WARNING)
    clock = CLOCKS[arguments.clock]
    inputs, targets = data(arguments.steps)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, "
        f"sequence {LENGTH}, hidden {HIDDEN}, {arguments.steps} steps per measurement, "
        f"best of {arguments.repeats}, {arguments.clock} clock"
    )
    columns = ("fused", "bare", "trainer")
    print(f"{'family':8s} " + " ".join(f"{c:>9s}" for c in columns) + f" {'ratio':>6s}  (steps/s;"
          " ratio trainer/fused)")
    worst = float("inf")
    for family in arguments.families:
        rates = dict.fromkeys(columns, 0.0)
        for _ in range(arguments.repeats):  # interleaved, so load changes hit all three alike
            for column, measure in zip(columns, (fused, bare, trainer)):
                rates[column] = max(rates[column], measure(family, inputs, targets, clock))
        ratio = rates["trainer"] / rates["fused"]
        worst = min(worst, ratio)
        note = "" if family in FUSED_MODULES else "  (no fused module: fused = bare)"
        print(f"{family:8s} " + " ".join(f"{rates[c]:9.2f}" for c in columns)
              + f" {ratio:6.2f}{note}")
    verdict = "meets" if worst >= TARGET_RATIO else "MISSES"
    print(f"worst trainer/fused ratio {worst:.2f}: {verdict} the target >= {TARGET_RATIO:.2f}")


if __name__ == "__main__":
    main()
