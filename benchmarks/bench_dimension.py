"""Correlation dimension: ``correlation_dimension`` (KD-tree) against ``nolds.corr_dim``.

Data: 10,000 Lorenz-63 points from scipy ``solve_ivp`` (DOP853, rtol = atol = 1e-10), dt = 0.01,
x0 = (1, 1, 1), the first 20 time units dropped.

1. Speed on the same data: nolds gets the x series with emb_dim = 4, lag = 12 (it delay-embeds
   itself, with fit='poly'); ours gets ``delay_embedding(x, 4, 12)``, the identical cloud.
   Target: ours >= 5x faster.
2. Accuracy: D2 of the (x, y, z) cloud against the reference 2.05 (Grassberger & Procaccia 1983),
   target 2.05 +- 0.05. A Theiler window of one Lyapunov time (110 samples) excludes pairs that
   are still dynamically correlated. Because a 100-time-unit trajectory samples the attractor
   unevenly, the estimate is also shown over further initial conditions.

Run: ``python benchmarks/bench_dimension.py`` (about a minute, one thread; nolds needs ~1 GB).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread: comparable numbers on a shared machine

import time
import warnings

import numpy as np
from scipy.integrate import solve_ivp

from rnndyn.analysis.dimension import correlation_dimension
from rnndyn.analysis.embedding import delay_embedding

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # nolds 0.6.2 imports the deprecated pkg_resources
    import nolds

DT = 0.01
N_POINTS = 10_000
TRANSIENT = 20.0
THEILER = 110  # one Lyapunov time, 1 / 0.9056 = 1.104 time units, in samples
EMB_DIM, LAG = 4, 12
REFERENCE, TOLERANCE = 2.05, 0.05


def lorenz_points(x0) -> np.ndarray:
    """(N_POINTS, 3) Lorenz-63 states (sigma 10, rho 28, beta 8/3) every DT after the transient."""

    def field(_t, s):
        return [10.0 * (s[1] - s[0]), s[0] * (28.0 - s[2]) - s[1], s[0] * s[1] - 8.0 / 3.0 * s[2]]

    t = TRANSIENT + DT * np.arange(N_POINTS)
    sol = solve_ivp(field, (0.0, t[-1]), x0, t_eval=t, method="DOP853", rtol=1e-10, atol=1e-10)
    return sol.y.T


def best_time(function, repeats: int):
    """(result, smallest wall time over ``repeats`` calls)."""
    best, result = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - t0)
    return result, best


def main() -> None:
    states = lorenz_points([1.0, 1.0, 1.0])
    x = states[:, 0]
    cloud = delay_embedding(x, EMB_DIM, LAG)

    print(f"== 1. Speed on the same data: x (N = {N_POINTS}), emb_dim = {EMB_DIM}, lag = {LAG}")
    nolds_d2, nolds_time = best_time(lambda: nolds.corr_dim(x, EMB_DIM, lag=LAG, fit="poly"), repeats=1)
    ours, ours_time = best_time(lambda: correlation_dimension(cloud, rng=np.random.default_rng(0)), repeats=3)
    ratio = nolds_time / ours_time
    print(f"nolds.corr_dim (fit='poly')   : D2 = {nolds_d2:.3f}   {nolds_time:7.2f} s")
    print(f"correlation_dimension (ours)  : D2 = {ours.dimension:.3f}   {ours_time:7.2f} s")
    print(f"ratio {ratio:.1f}x   (target >= 5x)   {'PASS' if ratio >= 5 else 'FAIL'}")

    print(f"\n== 2. Accuracy: (x, y, z) cloud, N = {N_POINTS}, Theiler window {THEILER} samples")
    result, state_time = best_time(
        lambda: correlation_dimension(states, rng=np.random.default_rng(0), theiler_window=THEILER), repeats=1
    )
    inside = abs(result.dimension - REFERENCE) <= TOLERANCE
    print(f"x0 = (1, 1, 1): D2 = {result.dimension:.3f} ({state_time:.2f} s; "
          f"{np.count_nonzero(result.in_fit)} radii in the scaling region)   "
          f"(target {REFERENCE} +- {TOLERANCE})   {'PASS' if inside else 'FAIL'}")
    embedded = correlation_dimension(cloud, rng=np.random.default_rng(0), theiler_window=THEILER)
    print(f"same trajectory, delay embedding of x (dim {EMB_DIM}, lag {LAG}): D2 = {embedded.dimension:.3f}")

    rng = np.random.default_rng(20240601)
    others = []
    for _ in range(8):
        x0 = rng.normal(size=3) * 5.0 + np.array([0.0, 0.0, 25.0])
        others.append(correlation_dimension(lorenz_points(x0), rng=rng, theiler_window=THEILER).dimension)
    others = np.array(others)
    print(f"8 other initial conditions: D2 = {np.array2string(others, precision=3)}")
    print(f"  mean {others.mean():.3f}, sd {others.std(ddof=1):.3f}; "
          f"{np.count_nonzero(np.abs(others - REFERENCE) <= TOLERANCE)}/8 within {REFERENCE} +- {TOLERANCE}")


if __name__ == "__main__":
    main()
