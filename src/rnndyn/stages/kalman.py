"""The Kalman stage (claim ``kalman``): the steady-state Kalman predictor is a linear RNN, and a
trained RNN recovers it.

Data: linear Gaussian state-space systems (KalmanNet's canonical models, made stable, and random
stable ones) at several noise levels. Baselines: the steady-state predictor (DARE), the
time-varying filter and the analytic floor tr(C P C^T + R) / p. Networks ("linear", and a tanh
RNN) are trained by the shared trainer to predict y_{t+1} from y_{<=t}. Analysis: the test MSE gap
10 log10(MSE_RNN / MSE_KF), the eigenvalues of the learned recurrence (after balanced truncation
to the system's order) against eig(A - A K C), and the learned impulse response against the
predictor's.

Jobs: :func:`data_job` here (no torch); the training and analysis jobs, which run networks, in
:mod:`rnndyn.stages.kalman_networks`; the figures in :mod:`rnndyn.plotting.kalman`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from rnndyn.analysis.replicates import best_replicate
from rnndyn.claims import N_STANDARD_ERRORS, Claim, claim_close
from rnndyn.systems.lgssm import LinearGaussianSystem, simulate_lgssm, system_from_spec

if TYPE_CHECKING:
    from rnndyn.jobs import Job

# Our declared choice: a network within 0.1 dB (2.3 % in MSE) of the optimal predictor "recovers"
# it; STUDY.md asks for the gap in dB but names no threshold.
GAP_TOL_DB = 0.1
# Ours, chosen by eye: a tenth of the unit disc's radius, where the overlay of learned and Kalman
# eigenvalues stops looking like one set of points. Not derived from the eigenvalues' condition.
EIGENVALUE_TOL = 0.05
# The figures (STAGE_FIGURES["kalman"] in workflow/rules/kalman.smk) where the claims can be seen.
GAP_FIGURE = "kalman_gap"
EIGENVALUE_FIGURE = "kalman_eigenvalues"


def data_job(job: Job) -> None:
    """Job ``kalman_data``: observation sequences of one system (config ``system`` and ``data``)."""
    name, spec = job.wildcards["system"], job.config["system"]
    system = system_from_spec(spec, job.streams.numpy("system"))
    data = simulate_splits(system, job.streams.numpy("data"), job.config["data"]).assign_attrs(system=name, **spec)
    job.log.info("%s: n = %d, p = %d, rho(A) = %.3f", name, data.sizes["state"], data.sizes["output"],
                 data.attrs["rho_A"])
    job.write(data)


def simulate_splits(system: LinearGaussianSystem, rng: np.random.Generator, cfg: dict[str, Any]) -> xr.Dataset:
    """Observation sequences of the system for training, validation and test, with A, C, Q, R.

    Each sequence starts from the stationary distribution. Train and validation sequences have
    ``train_steps + 1`` observations (inputs y_1..y_T, targets y_2..y_{T+1}); test sequences
    ``test_steps + 1``. ``scale`` is the per-output standard deviation of the training split: the
    networks see y / scale (the conditional mean is the optimal predictor under any weighting of
    the outputs, so the rescaling changes the conditioning of training, not its optimum).

    Returns
    -------
    xarray.Dataset
        ``y_<split>`` (sequence, t, output) and ``x_<split>`` (sequence, t, state) for each split,
        ``A``, ``C``, ``Q``, ``R``, ``scale``.
    """
    sizes = {"train": (cfg["n_train"], cfg["train_steps"]), "val": (cfg["n_val"], cfg["train_steps"]),
             "test": (cfg["n_test"], cfg["test_steps"])}
    variables = {}
    for split, (n_sequences, n_steps) in sizes.items():
        x, y = simulate_lgssm(system.A, system.C, system.Q, system.R, n_steps + 1, rng, n_sequences=n_sequences)
        variables[f"y_{split}"] = ((f"sequence_{split}", f"t_{split}", "output"), y,
                                   {"long_name": f"observations y_t ({split} split)", "units": "1"})
        variables[f"x_{split}"] = ((f"sequence_{split}", f"t_{split}", "state"), x,
                                   {"long_name": f"states x_t ({split} split)", "units": "1"})
    y_train = variables["y_train"][1]
    matrices = {
        "A": (("state", "state_col"), system.A, {"long_name": "state transition A", "units": "1"}),
        "C": (("output", "state"), system.C, {"long_name": "observation matrix C", "units": "1"}),
        "Q": (("state", "state_col"), system.Q, {"long_name": "process-noise covariance Q", "units": "1"}),
        "R": (("output", "output_col"), system.R, {"long_name": "observation-noise covariance R", "units": "1"}),
        "scale": (("output",), y_train.reshape(-1, y_train.shape[-1]).std(axis=0),
                  {"long_name": "per-output standard deviation of the training observations", "units": "1"}),
    }
    return xr.Dataset({**variables, **matrices},
                      attrs={"title": "Linear Gaussian state-space observations", "rho_A":
                             float(np.max(np.abs(np.linalg.eigvals(system.A))))})


def system_of(data: xr.Dataset) -> LinearGaussianSystem:
    """The system matrices stored by :func:`simulate_splits`."""
    return LinearGaussianSystem(*(data[name].values for name in ("A", "C", "Q", "R")))


def claims(ds: xr.Dataset) -> list[Claim]:
    """The ``kalman`` claims: the Kalman baseline against its analytic floor, and per system the
    gap and eigenvalue match of the linear network (the replicate with the lowest validation loss).

    STUDY.md's claim is about a linear RNN; the other architectures (a tanh RNN) are reported in
    the notes, the dataset and the figures, not held to its 0.1 dB target.
    """
    out = []
    for system in ds["system"].values:
        s = ds.sel(system=system)
        out.append(claim_close(
            f"kalman/kf_mse_vs_floor/{system}",
            f"steady-state Kalman predictor's test MSE against tr(C P C^T + R) / p ({system})",
            measured=float(s["mse_kf"]), expected=float(s["mse_floor"]),
            kind="theory", tolerance=N_STANDARD_ERRORS * float(s["mse_kf_se"]), unit="y^2", figure="",
            note=f"expected: the analytic floor from the discrete algebraic Riccati equation (STUDY.md); "
                 f"tolerance derived: {N_STANDARD_ERRORS:g} standard errors of the mean squared error over "
                 f"the test sequences; time-varying filter {float(s['mse_tv']):.4g}; no figure shows it"))
        if "linear" not in ds["arch"].values:
            continue
        best = {arch: best_replicate(s.sel(arch=arch)) for arch in ds["arch"].values}
        b = best["linear"]
        others = "; ".join(f"{arch}: gap {float(r['gap_db']):+.3f} dB, "
                           f"eigenvalue error {float(r['eigenvalue_error']):.3g}"
                           for arch, r in best.items() if arch != "linear")
        n_replicates = int(s.sizes["replicate"])
        replicates = ", ".join(f"replicate {int(rep)}: {g:+.3f} dB ({st})" for rep, g, st in
                               zip(s["replicate"].values, s["gap_db"].sel(arch="linear").values,
                                   s["status"].sel(arch="linear").values))
        out.append(claim_close(
            f"kalman/gap_db/{system}",
            f"10 log10(MSE_RNN / MSE_KF) on the test split, linear network on {system}",
            kind="finding", measured=float(b["gap_db"]), expected=0.0, tolerance=GAP_TOL_DB, unit="dB",
            figure=GAP_FIGURE,
            note=f"finding over {n_replicates} replicate(s), judged on one network (the replicate with the lowest "
                 f"validation loss), not on an interval; expected 0 dB: the Kalman predictor is the optimal "
                 f"linear predictor and a linear RNN can represent it (STUDY.md); tolerance {GAP_TOL_DB:g} dB: "
                 f"our declared choice; {replicates}; burn-in {ds.attrs['burn_in']} steps; "
                 f"impulse-response error {float(b['impulse_error']):.3g}" + (f"; {others}" if others else "")))
        out.append(claim_close(
            f"kalman/eigenvalue_max_error/{system}",
            f"max |learned - Kalman| eigenvalue of the linear network's recurrence on {system} "
            f"(balanced truncation to n = {int(s['state_dim'])} states, Hungarian matching)",
            kind="finding", measured=float(b["eigenvalue_error"]), expected=0.0, tolerance=EIGENVALUE_TOL,
            figure=EIGENVALUE_FIGURE,
            note=f"finding over {n_replicates} replicate(s), judged on one network (the replicate with the lowest "
                 f"validation loss), not on an interval; expected 0: the eigenvalues of A - A K C are "
                 f"similarity-invariant (STUDY.md); tolerance {EIGENVALUE_TOL:g}: our declared choice, chosen by "
                 f"eye (a tenth of the unit disc's radius), not derived from the eigenvalues' condition (a nearly "
                 f"defective A - A K C moves its eigenvalues like eps^(1/m)); first truncated / largest Hankel "
                 f"singular value {float(b['hankel_ratio']):.2g}; "
                 f"rho(W) {float(b['rho_W']):.3g}"))
    return out
