"""Speed of the full QR Lyapunov spectrum of a random tanh network, N = 256.

h ← tanh(W h), W = g J with the chaos stage's coupling J ~ N(0, 1/N)
(:func:`rnndyn.systems.random_rnn.coupling_matrix`). The floor is the time of one 256 × 256 float64 matrix product per
step (the tangent basis must be multiplied by the Jacobian every step); the target is an engine
time per step within 3× of it. Reported for g = 1 (edge of chaos), 1.5 and 2 (chaotic): the
adaptive QR interval depends on the spread of the spectrum, which grows with g. Also measured:
a plain torch loop with a QR after every step (the naive reference), and the largest difference
between the engine's adaptive interval and a QR after every step on the same trajectory.

On a shared machine the load changes within seconds, so every timing is paired with a floor
measured just before and just after it, and the ratio reported is the median over repeats.

Run: ``python benchmarks/bench_lyapunov_random_rnn.py`` (about a minute, one thread).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread: comparable numbers on a shared machine

import time
from typing import Callable

import numpy as np
import torch

from rnndyn.analysis.lyapunov import lyapunov_spectrum, lyapunov_spectrum_autograd
from rnndyn.systems.random_rnn import coupling_matrix

N = 256
N_STEPS, N_TRANSIENT = 300, 100
N_NAIVE = 100
REPEATS = 3
TARGET = 3.0


def product_time(n: int = 60) -> float:
    """Seconds per 256 × 256 float64 product, the faster of NumPy and torch."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((N, N)), rng.standard_normal((N, N))
    a_t, b_t = torch.from_numpy(a), torch.from_numpy(b)
    best = np.inf
    for product in (lambda: a @ b, lambda: a_t @ b_t):
        t0 = time.perf_counter()
        for _ in range(n):
            product()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def paired_ratio(run: Callable[[], object], n_steps: int) -> tuple[float, float]:
    """Median over REPEATS of (seconds per step of ``run``) / (floor around it), and the median time."""
    ratios, times = [], []
    for _ in range(REPEATS):
        before = product_time()
        t0 = time.perf_counter()
        run()
        per_step = (time.perf_counter() - t0) / n_steps
        floor = 0.5 * (before + product_time())
        ratios.append(per_step / floor)
        times.append(per_step)
    return float(np.median(ratios)), float(np.median(times))


def plain_torch_loop(w: np.ndarray, h0: np.ndarray) -> None:
    """The naive loop: tangent update and torch.linalg.qr after every step."""
    w_t, h = torch.from_numpy(w), torch.from_numpy(h0[0])
    q = torch.eye(N, dtype=torch.float64)
    log_sum = torch.zeros(N, dtype=torch.float64)
    for _ in range(N_NAIVE):
        h = torch.tanh(w_t @ h)
        q, r = torch.linalg.qr((1.0 - h * h)[:, None] * (w_t @ q))
        log_sum += torch.log(torch.abs(torch.diagonal(r)))


def main() -> None:
    torch.set_num_threads(1)
    print(f"Random tanh network h <- tanh(W h), W ~ N(0, g^2/N), N = {N}, full spectrum, {N_TRANSIENT} + "
          f"{N_STEPS} steps, one network (B = 1), float64, one thread; median of {REPEATS} paired runs")
    print(f"{'g':>4} {'floor':>8} {'numpy':>8} {'autograd':>9} {'interval':>8} {'naive/fl':>8} {'numpy/fl':>8} "
          f"{'autog/fl':>8} {'|auto-every|':>12} {'lambda1':>8} {'lambdaN':>8}")
    verdicts = []
    for g in (1.0, 1.5, 2.0):
        w = g * coupling_matrix(N, torch.Generator().manual_seed(7)).numpy()
        h0 = np.random.default_rng(7).standard_normal((1, N))
        w_t = torch.from_numpy(w)

        def step(h):
            return np.tanh(h @ w.T)

        def jacobian(h):
            return (1.0 - step(h) ** 2)[:, :, None] * w

        def step_torch(h):
            return torch.tanh(h @ w_t.T)

        def run_numpy(qr_every="auto"):
            return lyapunov_spectrum(step, jacobian, h0, n_steps=N_STEPS, n_transient=N_TRANSIENT, qr_every=qr_every)

        def run_autograd():
            return lyapunov_spectrum_autograd(step_torch, torch.from_numpy(h0), n_steps=N_STEPS,
                                              n_transient=N_TRANSIENT)

        total = N_STEPS + N_TRANSIENT
        naive_ratio, _ = paired_ratio(lambda: plain_torch_loop(w, h0), N_NAIVE)
        numpy_ratio, numpy_time = paired_ratio(run_numpy, total)
        autograd_ratio, autograd_time = paired_ratio(run_autograd, total)
        auto, every = run_numpy(), run_numpy(qr_every=1)
        error = np.abs(auto.exponents - every.exponents).max()
        verdicts.append((g, min(numpy_ratio, autograd_ratio)))
        print(f"{g:4.1f} {product_time() * 1e3:6.3f}ms {numpy_time * 1e3:6.3f}ms {autograd_time * 1e3:7.3f}ms "
              f"{N_STEPS / auto.n_qr:8.1f} {naive_ratio:8.2f} {numpy_ratio:8.2f} {autograd_ratio:8.2f} "
              f"{error:12.1e} {auto.exponents[0, 0]:8.4f} {auto.exponents[0, -1]:8.4f}")
    print("floor: one 256x256 float64 product; naive: torch loop with QR every step; numpy: lyapunov_spectrum\n"
          "(analytic Jacobian); autograd: lyapunov_spectrum_autograd (torch.func jvp); interval: mean steps between\n"
          "QRs (qr_every='auto'); |auto-every|: largest exponent difference vs a QR after every step (per step)")
    for g, ratio in verdicts:
        print(f"g = {g}: engine (faster front end) {ratio:.2f}x the floor   (target <= {TARGET}x)   "
              f"{'PASS' if ratio <= TARGET else 'FAIL'}")


if __name__ == "__main__":
    main()
