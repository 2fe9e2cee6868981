"""Training-step throughput of rnndyn.training.train against a bare PyTorch loop.

Same model object type, batch (64 sequences x 200 steps, 3 channels), hidden size 128, Adam and
MSE loss in both; the bare loop also draws a random minibatch order and gathers the batches, as
the trainer does. The trainer's rate is its own per-epoch ``steps_per_s`` (wall time of the
epoch, its once-per-epoch overheads included). Also printed: a plain ``nn.RNN``/``nn.LSTM``/
``nn.GRU`` + ``nn.Linear`` loop, to compare the model classes with the raw PyTorch modules and
with the reference measured on this kind of machine (torch 2.13 CPU, 2 threads: nn.RNN 23
steps/s, nn.LSTM 12, nn.GRU 8).

Target: trainer throughput within 10 % of the bare loop (ratio >= 0.90). Runs in about 1-2 min.

Usage: python benchmarks/bench_trainer.py [--threads 1] [--steps 6] [--repeats 3]
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
REFERENCE_STEPS_PER_S = {"vanilla": 23.0, "lstm": 12.0, "gru": 8.0}
RAW_MODULES = {"vanilla": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
TARGET_RATIO = 0.90


def data(steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    series = torch.randn(BATCH * steps, LENGTH + 1, CHANNELS, generator=generator)
    return series[:, :-1].contiguous(), series[:, 1:].contiguous()


def timed_loop(forward, parameters, inputs, targets) -> float:
    """Steps per second of a bare Adam loop over one random permutation of the data."""
    optimizer = torch.optim.Adam(parameters, lr=LR)
    order = torch.randperm(inputs.shape[0], generator=torch.Generator().manual_seed(0))
    batches = order.split(BATCH)
    optimizer.zero_grad()
    F.mse_loss(forward(inputs[batches[0]]), targets[batches[0]]).backward()  # warm-up step
    started = time.perf_counter()
    for batch in batches:
        optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(forward(inputs[batch]), targets[batch])
        loss.backward()
        optimizer.step()
    return len(batches) / (time.perf_counter() - started)


def model(family: str):
    return build_model(
        family,
        input_size=CHANNELS,
        hidden_size=HIDDEN,
        output_size=CHANNELS,
        generator=torch.Generator().manual_seed(0),
    )


def bare(family: str, inputs, targets) -> float:
    network = model(family)
    return timed_loop(network.outputs, list(network.parameters()), inputs, targets)


def raw(family: str, inputs, targets) -> float:
    recurrent = RAW_MODULES[family](CHANNELS, HIDDEN, batch_first=True)
    readout = nn.Linear(HIDDEN, CHANNELS)
    parameters = [*recurrent.parameters(), *readout.parameters()]
    return timed_loop(lambda x: readout(recurrent(x)[0]), parameters, inputs, targets)


def trainer(family: str, inputs, targets) -> float:
    config = {"epochs": 2, "batch_size": BATCH, "lr": LR}
    result = train(model(family), (inputs, targets), config=config, seed=0, device="cpu")
    return float(result.history["steps_per_s"].values[-1])  # epoch 1 pays first-call costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=int, default=1, help="2 matches the reference; 1 is steadier when shared"
    )
    parser.add_argument("--steps", type=int, default=6, help="optimiser steps per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many measurements")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    logging.basicConfig(level=logging.WARNING)
    inputs, targets = data(arguments.steps)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, "
        f"sequence {LENGTH}, hidden {HIDDEN}, {arguments.steps} steps per measurement, "
        f"best of {arguments.repeats}"
    )
    columns = ("reference", "raw nn", "bare", "trainer")
    print(f"{'family':8s} " + " ".join(f"{c:>9s}" for c in columns) + f" {'ratio':>6s}  (steps/s)")
    worst = float("inf")
    for family in ("vanilla", "lstm", "gru"):
        rates = {"raw": 0.0, "bare": 0.0, "trainer": 0.0}
        for _ in range(arguments.repeats):  # interleaved, so load changes hit all three alike
            rates["raw"] = max(rates["raw"], raw(family, inputs, targets))
            rates["bare"] = max(rates["bare"], bare(family, inputs, targets))
            rates["trainer"] = max(rates["trainer"], trainer(family, inputs, targets))
        ratio = rates["trainer"] / rates["bare"]
        worst = min(worst, ratio)
        print(
            f"{family:8s} {REFERENCE_STEPS_PER_S[family]:9.1f} {rates['raw']:9.1f} "
            f"{rates['bare']:9.1f} {rates['trainer']:9.1f} {ratio:6.2f}"
        )
    verdict = "meets" if worst >= TARGET_RATIO else "MISSES"
    print(f"worst trainer/bare ratio {worst:.2f}: {verdict} the target >= {TARGET_RATIO:.2f}")


if __name__ == "__main__":
    main()
