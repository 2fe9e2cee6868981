"""Speed of the chaos stage's full QR Lyapunov spectrum of a random tanh network, N = 256.

The stage's own path is timed: ``rnndyn.systems.random_rnn.full_spectra``, which the
``chaos_sweep`` job runs (torch tangent step with the drive term, batched layout, the shared QR
engine with its adaptive interval), one undriven network per gain. The floor is one 256 × 256
float64 matrix product per step, and timings are paired with floors measured around them (median
over repeats), both taken from the engine author's ``bench_lyapunov_random_rnn.py``. Target: within 3× of the floor.

At large g the spectrum is wide (λ_N ≈ −12 per step at g = 3), so the engine must re-orthonormalise
after every step and the QR (≈ 4/3 N³ for R plus 4/3 N³ to form Q, against 2 N³ for the product)
sets the cost; at g ≤ 1.5 the interval is 4–5 steps and the product dominates.

Run: ``python benchmarks/bench_chaos.py`` (under a minute, one thread).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread: comparable numbers on a shared machine

import numpy as np
import torch

from bench_lyapunov_random_rnn import N, REPEATS, TARGET, paired_ratio, product_time
from rnndyn.seeding import Streams
from rnndyn.systems.random_rnn import coupling_matrix, full_spectra

N_ALIGN, N_STEPS = 50, 250


def main() -> None:
    torch.set_num_threads(1)
    J = coupling_matrix(N, torch.Generator().manual_seed(7))
    cfg = {"n_trajectories": 1, "n_transient": 0, "n_align": N_ALIGN, "n_steps": N_STEPS}
    print(f"chaos stage full spectrum, N = {N}, one undriven network, {N_ALIGN} + {N_STEPS} tangent steps, float64, "
          f"one thread; median of {REPEATS} paired runs")
    print(f"{'g':>4} {'floor':>9} {'stage':>9} {'ratio':>6} {'lambda1':>8} {'lambdaN':>8}")
    verdicts = []
    for g in (1.0, 1.5, 2.0, 3.0):
        def run():
            return full_spectra(J, np.array([g]), np.array([0.0]), cfg, Streams(0, "bench"), torch.device("cpu"))

        ratio, per_step = paired_ratio(run, N_ALIGN + N_STEPS)
        spectrum = run()[0, 0]
        verdicts.append((g, ratio))
        print(f"{g:4.1f} {product_time() * 1e3:7.3f}ms {per_step * 1e3:7.3f}ms {ratio:6.2f} {spectrum[0]:8.4f} "
              f"{spectrum[-1]:8.3f}")
    print("floor: one 256x256 float64 matrix product; stage: seconds per tangent step of random_rnn.full_spectra")
    for g, ratio in verdicts:
        print(f"g = {g}: {ratio:.2f}x the floor   (target <= {TARGET}x)   {'PASS' if ratio <= TARGET else 'FAIL'}")


if __name__ == "__main__":
    main()
