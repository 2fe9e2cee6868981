"""Speed of a network's closed-loop and conditional Lyapunov spectra (full spectrum), one core.

For GRU-32, LSTM-32 (full state (h, c): 64), shPLRNN-32 (width 100) and vanilla-32, in the scalar
Lorenz setting (input = output = 1), float64, 8 trajectories × 20,000 steps (+ 1,000 transient)
of each spectrum, timed per step:

- analytic: :func:`rnndyn.analysis.network_lyapunov.closed_loop_spectrum` and
  :func:`~rnndyn.analysis.network_lyapunov.conditional_spectrum` (the families' analytic
  Jacobians, formed a stretch of steps at a time);
- autograd: :func:`rnndyn.analysis.lyapunov.lyapunov_spectrum_autograd` on the closed-loop step
  (``torch.func`` jvp; the path the Lorenz stage used), 1,000 + 100 steps, per step;
- floor: what any QR method must do per step, the bare batched product (B, S, S) @ (B, S, S)
  plus one ``torch.linalg.qr`` every ``interval`` steps, ``interval`` the analytic run's own mean
  QR interval, measured just before and just after each analytic run.

Target: both spectra of GRU-32 and of shPLRNN-32 at 20,000 × 8 in <= 15 s on one core.

The networks are freshly initialised (seeded), driven by a standardised Lorenz x; a trained
network's spectrum is wider (its most negative exponents set a shorter QR interval), so the floor
column is reported with the interval it assumes. Times are CPU seconds of this process
(``time.process_time``, one thread): on a shared machine they move less with the load than wall
time does.

Run: ``python benchmarks/bench_network_lyapunov.py [--steps N]`` (a few minutes at the default).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread: comparable numbers on a shared machine

import argparse
import time

import numpy as np
import torch

from rnndyn.analysis.lyapunov import lyapunov_spectrum_autograd
from rnndyn.analysis.network_lyapunov import closed_loop_spectrum, conditional_spectrum
from rnndyn.models import build_model, closed_loop
from rnndyn.systems.lorenz import integrate_lorenz, lorenz_initial_states

FAMILIES = ("gru", "lstm", "shplrnn", "vanilla")
TARGETS = ("gru", "shplrnn")
HIDDEN, BATCH, TRANSIENT, DT = 32, 8, 1000, 0.01
AUTOGRAD_STEPS, AUTOGRAD_TRANSIENT = 1000, 100
BUDGET_S = 15.0


def floor_per_step(state_size: int, interval: float, n: int = 2000) -> float:
    """CPU seconds per step of the bare tangent products and QRs (one every ``interval`` steps)."""
    gen = torch.Generator().manual_seed(0)
    # Orthogonal "Jacobians": the basis neither grows nor shrinks, whatever n.
    jacobian = torch.linalg.qr(torch.randn(BATCH, state_size, state_size, generator=gen, dtype=torch.float64))[0]
    basis = torch.linalg.qr(torch.randn(BATCH, state_size, state_size, generator=gen, dtype=torch.float64))[0]
    every = max(int(round(interval)), 1)
    t0 = time.process_time()
    for step in range(1, n + 1):
        basis = jacobian @ basis
        if step % every == 0:
            basis, _ = torch.linalg.qr(basis)
    return (time.process_time() - t0) / n


def drive(n_steps: int) -> np.ndarray:
    """``(BATCH, n_steps, 1)`` standardised Lorenz x on the attractor (the scalar setting's input)."""
    states = integrate_lorenz(lorenz_initial_states(np.random.default_rng(1), BATCH), dt=DT, n_steps=n_steps,
                              n_transient=1000)
    x = states[:, :n_steps, :1]
    return (x - x.mean()) / x.std()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="steps averaged per spectrum")
    n_steps = parser.parse_args().steps
    torch.set_num_threads(1)
    total = TRANSIENT + n_steps
    signal = drive(total + 500)
    print(f"Full spectra, hidden {HIDDEN}, B = {BATCH} trajectories x ({TRANSIENT} + {n_steps}) steps each, float64, "
          "one thread, CPU time")
    print(f"{'family':>8} {'S':>3} {'spectrum':>11} {'analytic':>10} {'interval':>8} {'floor':>9} {'an/floor':>8} "
          f"{'autograd':>10} {'autog/an':>8} {'seconds':>8}")
    seconds = {}
    for family in FAMILIES:
        model = build_model(family, input_size=1, hidden_size=HIDDEN, output_size=1,
                            generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        with torch.no_grad():
            _, states = closed_loop(model, torch.from_numpy(signal[:, :500]), 500)
        start = states[:, -1]
        zeros = torch.zeros(BATCH, model.state_size, dtype=torch.float64)
        runs = {
            "closed": lambda: closed_loop_spectrum(model, start, n_steps=n_steps, n_transient=TRANSIENT, dt=DT,
                                                   rng=np.random.default_rng(0)),
            "conditional": lambda: conditional_spectrum(model, signal[:, 500 : 500 + total], zeros,
                                                        n_transient=TRANSIENT, dt=DT, rng=np.random.default_rng(0)),
        }

        def autonomous(s: torch.Tensor) -> torch.Tensor:
            return model.step(model.readout(s), s)

        t0 = time.process_time()
        lyapunov_spectrum_autograd(autonomous, start, n_steps=AUTOGRAD_STEPS, n_transient=AUTOGRAD_TRANSIENT,
                                   dt=DT, rng=np.random.default_rng(0))
        autograd = (time.process_time() - t0) / (AUTOGRAD_STEPS + AUTOGRAD_TRANSIENT)
        for kind, run in runs.items():
            t0 = time.process_time()
            result = run()
            elapsed = time.process_time() - t0
            interval = n_steps / result.n_qr
            floor = 0.5 * (floor_per_step(model.state_size, interval) + floor_per_step(model.state_size, interval))
            per_step = elapsed / total
            seconds[family] = seconds.get(family, 0.0) + elapsed
            print(f"{family:>8} {model.state_size:3d} {kind:>11} {per_step * 1e6:8.0f}us {interval:8.1f} "
                  f"{floor * 1e6:7.0f}us {per_step / floor:8.2f} {autograd * 1e6:8.0f}us {autograd / per_step:8.1f} "
                  f"{elapsed:8.1f}")
    print("analytic: time per step of the spectrum (trajectory + Jacobians + products + QR); interval: its mean\n"
          "steps between QRs; floor: bare (B,S,S)@(B,S,S) per step + a QR every `interval` steps; autograd:\n"
          "lyapunov_spectrum_autograd on the closed-loop step (closed loop only, same for both rows); seconds:\n"
          "CPU time of the analytic run")
    for family in FAMILIES:
        verdict = f"(target <= {BUDGET_S:.0f} s) {'PASS' if seconds[family] <= BUDGET_S else 'FAIL'}" \
            if family in TARGETS else "(reported)"
        print(f"{family}: closed loop + conditional, {BATCH} x {n_steps} steps: {seconds[family]:.1f} s {verdict}")


if __name__ == "__main__":
    main()
