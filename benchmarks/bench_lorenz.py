"""Speed of the Lorenz-63 generator and of the engine's Lorenz Lyapunov spectrum.

1. ``integrate_lorenz`` (batched RK4) against scipy ``solve_ivp`` (RK45, rtol = atol = 1e-9) run
   one trajectory at a time, in trajectory-steps per second (a solve_ivp "step" is one output
   point on the same dt grid). Target: ratio ≥ 1000.
2. ``lorenz_reference_spectrum`` at its default budget (the accuracy the study claims) against a
   plain single-trajectory NumPy loop (RK4 + exact tangent RK4, QR every step). Both average the
   same discrete map; their statistical error is set by the total averaged time, so the baseline
   needs the engine's total time ``B · T`` on one trajectory to reach the same accuracy. It is run
   for a fixed number of steps here (a full run would take tens of minutes) and its cost per step
   is scaled to that length. Target: ratio ≥ 10.

Run: ``python benchmarks/bench_lorenz.py`` (about a minute, one thread).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread: comparable numbers on a shared machine

import time

import numpy as np
from scipy.integrate import solve_ivp

from rnndyn.analysis.lyapunov import kaplan_yorke_dimension
from rnndyn.systems.lorenz import lorenz_reference_spectrum
from rnndyn.systems.lorenz import (
    BETA,
    KAPLAN_YORKE_DIMENSION,
    LYAPUNOV_SPECTRUM,
    LYAPUNOV_SUM,
    RHO,
    SIGMA,
    integrate_lorenz,
    lorenz_initial_states,
)

DT = 0.01


def lorenz_scalar(_t: float, s: np.ndarray) -> list[float]:
    """The vector field on plain floats: the fastest form for solve_ivp's one-at-a-time calls."""
    x, y, z = s
    return [SIGMA * (y - x), x * (RHO - z) - y, x * y - BETA * z]


def solve_ivp_rate(rng: np.random.Generator, t_span: float = 20.0, n_runs: int = 3) -> float:
    """Trajectory-steps per second of solve_ivp (output every DT), one trajectory at a time."""
    starts = integrate_lorenz(lorenz_initial_states(rng, n_runs), dt=DT, n_steps=0, n_transient=1000)[:, 0]
    t_eval = np.arange(int(round(t_span / DT)) + 1) * DT
    t0 = time.perf_counter()
    for x0 in starts:
        solve_ivp(lorenz_scalar, (0.0, t_eval[-1]), x0, method="RK45", rtol=1e-9, atol=1e-9, t_eval=t_eval)
    return n_runs * (len(t_eval) - 1) / (time.perf_counter() - t0)


def integrate_rate(rng: np.random.Generator, batch: int = 16384, n_steps: int = 500, repeats: int = 3) -> float:
    """Trajectory-steps per second of integrate_lorenz (every state kept), best of ``repeats``."""
    starts = lorenz_initial_states(rng, batch)
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        integrate_lorenz(starts, dt=DT, n_steps=n_steps)
        best = min(best, time.perf_counter() - t0)
    return batch * n_steps / best


def baseline_spectrum(x0: np.ndarray, n_steps: int, n_transient: int) -> np.ndarray:
    """The textbook loop: one trajectory, RK4 with its exact tangent map, QR after every step."""
    def field(s):
        return np.array([SIGMA * (s[1] - s[0]), s[0] * (RHO - s[2]) - s[1], s[0] * s[1] - BETA * s[2]])

    def jac(s):
        return np.array([[-SIGMA, SIGMA, 0.0], [RHO - s[2], -1.0, -s[0]], [s[1], s[0], -BETA]])

    x, q = x0.copy(), np.eye(3)
    log_sum = np.zeros(3)
    for n in range(n_transient + n_steps):
        k1, d1 = field(x), jac(x) @ q
        s2 = x + 0.5 * DT * k1
        k2, d2 = field(s2), jac(s2) @ (q + 0.5 * DT * d1)
        s3 = x + 0.5 * DT * k2
        k3, d3 = field(s3), jac(s3) @ (q + 0.5 * DT * d2)
        s4 = x + DT * k3
        k4, d4 = field(s4), jac(s4) @ (q + DT * d3)
        x = x + DT / 6.0 * (k1 + 2.0 * (k2 + k3) + k4)
        q, r = np.linalg.qr(q + DT / 6.0 * (d1 + 2.0 * (d2 + d3) + d4))
        if n >= n_transient:
            log_sum += np.log(np.abs(np.diag(r)))
    return log_sum / (n_steps * DT)


def main() -> None:
    rng = np.random.default_rng(20240601)

    print("== 1. Data generation: integrate_lorenz vs scipy solve_ivp (RK45, rtol = atol = 1e-9)")
    ivp = solve_ivp_rate(rng)
    batched = integrate_rate(rng)
    print(f"solve_ivp, one trajectory at a time : {ivp:12.4g} trajectory-steps/s")
    print(f"integrate_lorenz, batch 16384, RK4  : {batched:12.4g} trajectory-steps/s")
    print(f"ratio {batched / ivp:.0f}x   (target >= 1000x)   {'PASS' if batched / ivp >= 1000 else 'FAIL'}")

    print("\n== 2. Lorenz Lyapunov spectrum: engine (default budget) vs a plain single-trajectory loop")
    t0 = time.perf_counter()
    result = lorenz_reference_spectrum(rng)
    engine_time = time.perf_counter() - t0
    batch, t_total = result.exponents.shape[0], result.times[-1]
    mean, se = result.mean(), result.standard_error()
    dky = float(kaplan_yorke_dimension(mean))
    ref = np.array(LYAPUNOV_SPECTRUM)
    checks = [np.all(np.abs(mean - ref) <= [0.005, 0.005, 0.02]), abs(mean.sum() - LYAPUNOV_SUM) <= 1e-3,
              abs(dky - KAPLAN_YORKE_DIMENSION) <= 0.005]
    print(f"engine: {batch} trajectories x {t_total:g} time units at dt = {DT} (+ 2 x 20 transient): "
          f"{engine_time:.1f} s")
    se_text = np.array2string(se, formatter={"float_kind": "{:.1e}".format})
    print(f"  lambda = {np.array2string(mean, precision=5)} +- {se_text} "
          f"(reference {LYAPUNOV_SPECTRUM}, tolerance (0.005, 0.005, 0.02))")
    print(f"  sum = {mean.sum():.5f} (exact {LYAPUNOV_SUM:.5f}, tolerance 1e-3);  D_KY = {dky:.4f} "
          f"(reference {KAPLAN_YORKE_DIMENSION:.4f}, tolerance 0.005)  -> {'PASS' if all(checks) else 'FAIL'}")

    n_base, n_base_transient = 60_000, 2_000
    x0 = integrate_lorenz(lorenz_initial_states(rng, 1), dt=DT, n_steps=0, n_transient=2000)[0, 0]
    t0 = time.perf_counter()
    base = baseline_spectrum(x0, n_base, n_base_transient)
    per_step = (time.perf_counter() - t0) / (n_base + n_base_transient)
    needed_steps = batch * t_total / DT + n_base_transient  # same total averaged time as the engine
    base_time = per_step * needed_steps
    print(f"baseline: {per_step * 1e6:.1f} us/step measured over {n_base + n_base_transient} steps "
          f"(lambda over {n_base * DT:g} time units: {np.array2string(base, precision=4)}); the same accuracy "
          f"needs {needed_steps:.3g} steps -> {base_time:.0f} s")
    ratio = base_time / engine_time
    print(f"ratio {ratio:.0f}x   (target >= 10x)   {'PASS' if ratio >= 10 else 'FAIL'}")


if __name__ == "__main__":
    main()
