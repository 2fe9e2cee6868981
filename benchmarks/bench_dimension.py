"""Correlation dimension: cost per cloud of ``correlation_dimension`` (plateau rule + block bootstrap),
against bare pair counting and against ``nolds.corr_dim``; accuracy on Lorenz.

Data: Lorenz-63 from ``rnndyn.systems.lorenz`` (RK4, dt = 0.01), as the Lorenz stage makes it.

1. Cost per cloud at the stage's default size: 16 runs x 5,000 steps, every 10th state (8,000
   points), Theiler window 10 samples, for the (x, y, z) cloud and the delay cloud of x (dimension 3,
   lag 16 steps). References measured in the same run: (a) the counting core of the previous
   fixed-window estimator, ``cKDTree.count_neighbors`` over 48 radii, (b) the same call with
   ``n_bootstrap = 0`` (curve, local slopes and plateau only): the ratios say what the plateau rule
   and the bootstrap cost on top of counting.
2. Against nolds on the same data: one run of 10,000 samples of x, emb_dim = 4, lag = 12 (nolds
   delay-embeds itself, fit='poly'); ours gets ``delay_embedding(x, 4, 12)``, the identical cloud.
3. Accuracy: D2 of the default (x, y, z) cloud over 8 sets of initial conditions: the estimate, its
   95 % interval and whether Grassberger & Procaccia's 2.05 +- 0.01 meets the interval.

Run: ``python benchmarks/bench_dimension.py`` (about a minute, one thread; nolds needs ~1 GB).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread: comparable numbers on a shared machine

import time
import warnings

import numpy as np
from scipy.spatial import cKDTree

from rnndyn.analysis.dimension import correlation_dimension
from rnndyn.analysis.embedding import delay_cloud, delay_embedding, state_cloud
from rnndyn.analysis.topology import normalise_cloud
from rnndyn.systems.lorenz import integrate_lorenz, lorenz_initial_states

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # nolds 0.6.2 imports the deprecated pkg_resources
    import nolds

N_RUNS, N_STEPS, STRIDE, THEILER = 16, 5000, 10, 10
EMB_DIM, LAG = 4, 12
REFERENCE, UNCERTAINTY = 2.05, 0.01


def lorenz_runs(seed: int, n_runs: int = N_RUNS, n_steps: int = N_STEPS) -> np.ndarray:
    """(n_runs, n_steps, 3) Lorenz-63 states every 0.01 after 1,000 transient steps."""
    rng = np.random.default_rng(seed)
    return integrate_lorenz(lorenz_initial_states(rng, n_runs), dt=0.01, n_steps=n_steps - 1, n_transient=1000)


def best_time(function, repeats: int):
    """(result, smallest CPU time over ``repeats`` calls): CPU time, since the machine is shared."""
    best, result = np.inf, None
    for _ in range(repeats):
        t0 = time.process_time()
        result = function()
        best = min(best, time.process_time() - t0)
    return result, best


def bare_counting(points: np.ndarray) -> np.ndarray:
    """The previous estimator's core: dual-tree pair counts over 48 radii up to C ~ 0.1."""
    tree = cKDTree(points)
    radii = np.geomspace(1e-3, 0.45, 48) * np.sqrt(np.mean(np.sum((points - points.mean(0)) ** 2, axis=1)))
    return tree.count_neighbors(tree, radii)


def main() -> None:
    runs = lorenz_runs(0)
    x = (runs[..., 0] - runs[..., 0].mean()) / runs[..., 0].std()
    clouds = {"(x, y, z)": normalise_cloud(state_cloud(runs, STRIDE)),
              "delay of x": normalise_cloud(delay_cloud(x, 3, 16, STRIDE))}
    print(f"== 1. Cost per cloud: {N_RUNS} runs x {N_STEPS} steps, every {STRIDE}th state, Theiler {THEILER}")
    for name, cloud in clouds.items():
        _, counting = best_time(lambda: bare_counting(cloud), repeats=3)
        _, curve = best_time(lambda: correlation_dimension(cloud, rng=np.random.default_rng(0),
                                                           theiler_window=THEILER, n_bootstrap=0), repeats=3)
        result, full = best_time(lambda: correlation_dimension(cloud, rng=np.random.default_rng(0),
                                                               theiler_window=THEILER), repeats=3)
        print(f"{name:11s} N = {cloud.shape[0]}: D2 = {result.dimension:.3f} [{result.low:.3f}, {result.high:.3f}], "
              f"plateau r = {result.r_min:.3g}-{result.r_max:.3g}, support {result.support:.2f}")
        print(f"    bare counting {counting:.2f} s | curve + plateau {curve:.2f} s ({curve / counting:.1f}x) | "
              f"+ 200 bootstrap replicates {full:.2f} s ({full / counting:.1f}x counting)")

    print(f"\n== 2. Against nolds on the same data: x (N = 10000), emb_dim = {EMB_DIM}, lag = {LAG}")
    series = lorenz_runs(1, n_runs=1, n_steps=10_000)[0, :, 0]
    nolds_d2, nolds_time = best_time(lambda: nolds.corr_dim(series, EMB_DIM, lag=LAG, fit="poly"), repeats=1)
    cloud = delay_embedding(series, EMB_DIM, LAG)
    ours, ours_time = best_time(lambda: correlation_dimension(cloud, rng=np.random.default_rng(0)), repeats=3)
    print(f"nolds.corr_dim (fit='poly')   : D2 = {nolds_d2:.3f}   {nolds_time:7.2f} s")
    print(f"correlation_dimension (ours)  : D2 = {ours.dimension:.3f} [{ours.low:.3f}, {ours.high:.3f}]   "
          f"{ours_time:7.2f} s")
    print(f"ratio nolds / ours {nolds_time / ours_time:.1f}x")

    print(f"\n== 3. Accuracy: default (x, y, z) cloud, 8 sets of initial conditions (reference {REFERENCE} +- "
          f"{UNCERTAINTY})")
    met = 0
    for seed in range(1, 9):
        result = correlation_dimension(normalise_cloud(state_cloud(lorenz_runs(seed), STRIDE)),
                                       rng=np.random.default_rng(seed), theiler_window=THEILER)
        inside = result.low - UNCERTAINTY <= REFERENCE <= result.high + UNCERTAINTY
        met += inside
        print(f"seed {seed}: D2 = {result.dimension:.3f} [{result.low:.3f}, {result.high:.3f}]   "
              f"{'meets' if inside else 'MISSES'} the reference")
    print(f"{met}/8 intervals meet the reference")


if __name__ == "__main__":
    main()
