"""The Kalman stage (claim ``kalman``): the steady-state Kalman predictor is a linear RNN, and a
trained RNN recovers it.

Data: linear Gaussian state-space systems (KalmanNet's canonical models, made stable, and random
stable ones) at several noise levels; the canonical 2 x 2 systems that differ only in r^2 form the
noise sweep (KalmanNet's figure: MSE against 1/r^2). Baselines: the steady-state predictor (DARE),
the time-varying filter and the analytic floor tr(C P C^T + R) / p. Networks (a linear RNN; a tanh
RNN where configured) are trained by the shared trainer to predict y_{t+1} from y_{<=t}.

Training sequences start where the steady-state predictor is exact. A network starts every
sequence from h = 0, i.e. from the state estimate x_hat = 0. On a stationary sequence that estimate
is wrong at first (its error covariance is the stationary Sigma, not P), the optimal predictor is
the time-varying filter for the first steps, and a network with fixed weights trades the steady
state against that transient: fitted exactly to 512 stationary sequences of 100 steps, the best
linear predictor is 14 % off the Kalman predictor's impulse response, 0.8 % with the first 20 steps
left out of the loss. Drawing x_1 ~ N(0, P) instead makes x_hat = 0 the exact conditional mean, as
if an infinite past had left the estimate at 0 (P is the fixed point of the Riccati recursion), so
the steady-state predictor from h = 0 is optimal from the first step and it is the training
objective's optimum. Test sequences are stationary; their first ``burn_in`` steps are left out.

Analysis: the test MSE gap 10 log10(MSE_RNN / MSE_KF); the impulse response (Markov parameters)
against the predictor's, with a relative error; the poles of the learned recurrence (after
balanced truncation to the system's order) against eig(A - A K C), each with the tolerance its
conditioning gives it.

Jobs: :func:`data_job` here (no torch); the training and analysis jobs, which run networks, in
:mod:`rnndyn.stages.kalman_networks`; the figures in :mod:`rnndyn.plotting.kalman`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from rnndyn.analysis.kalman import steady_state_kalman
from rnndyn.analysis.replicates import median_interval
from rnndyn.claims import N_STANDARD_ERRORS, Claim, claim_close, claim_holds
from rnndyn.systems.lgssm import LinearGaussianSystem, simulate_lgssm, system_from_spec

if TYPE_CHECKING:
    from rnndyn.jobs import Job

# Our declared choice: a network within 0.1 dB (2.3 % in MSE) of the optimal predictor "recovers"
# it; STUDY.md asks for the gap in dB but names no threshold.
GAP_TOL_DB = 0.1
# The figures (STAGE_FIGURES["kalman"] in workflow/rules/kalman.smk) where the claims can be seen.
GAP_FIGURE = "kalman_gap"
IMPULSE_FIGURE = "kalman_impulse_response"
EIGENVALUE_FIGURE = "kalman_eigenvalues"
SWEEP_FIGURE = "kalman_noise_sweep"
# The architecture STUDY.md's claim is about; others are reported beside it.
CLAIMED_ARCH = "linear"


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

    Training and validation sequences start from x_1 ~ N(0, P), P the steady-state predicted-state
    covariance, so that the steady-state predictor started at x_hat_1 = 0 (a network's zero
    initial state) is the exact conditional mean from the first step (module docstring). Test
    sequences start from the stationary distribution. Train and validation sequences have
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
    P, _ = steady_state_kalman(system.A, system.C, system.Q, system.R)
    sizes = {"train": (cfg["n_train"], cfg["train_steps"], P), "val": (cfg["n_val"], cfg["train_steps"], P),
             "test": (cfg["n_test"], cfg["test_steps"], None)}
    variables = {}
    for split, (n_sequences, n_steps, x0_cov) in sizes.items():
        x, y = simulate_lgssm(system.A, system.C, system.Q, system.R, n_steps + 1, rng, n_sequences=n_sequences,
                              x0_cov=x0_cov)
        start = "x_1 ~ N(0, P)" if x0_cov is not None else "stationary x_1"
        variables[f"y_{split}"] = ((f"sequence_{split}", f"t_{split}", "output"), y,
                                   {"long_name": f"observations y_t ({split} split, {start})", "units": "1"})
        variables[f"x_{split}"] = ((f"sequence_{split}", f"t_{split}", "state"), x,
                                   {"long_name": f"states x_t ({split} split, {start})", "units": "1"})
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


def system_label(spec: dict[str, Any]) -> str:
    """A short description of a system from its config entry (for figures and claims)."""
    if spec["kind"] == "canonical":
        inverse_r2_db = -10.0 * np.log10(spec["r2"]) + 0.0  # + 0.0: no "-0"
        q2_db = spec["noise_ratio_db"] + 10.0 * np.log10(spec["r2"]) + 0.0
        return (f"canonical {spec['n']}x{spec['n']}, 1/r² {inverse_r2_db:+g} dB"
                + (f", q² {q2_db:+g} dB" if abs(q2_db) > 1e-9 else ""))
    return f"random, n = {spec['n']}, p = {spec['p']}"


def impulse_error_allowed_by_gap(s: xr.Dataset) -> float:
    """The relative impulse-response error a predictor within the gap tolerance can have at most: an
    excess MSE delta (summed over outputs) allows ||dh||_F^2 <= delta / lambda_min(R)
    (:func:`rnndyn.analysis.kalman.autocovariance_toeplitz`); context for the claim's note."""
    excess = int(s["output_dim"]) * float(s["mse_floor"]) * (10.0 ** (GAP_TOL_DB / 10.0) - 1.0)
    return float(np.sqrt(excess / float(s["lambda_min_R"])) / float(s["kf_markov_norm"]))


def claims(ds: xr.Dataset) -> list[Claim]:
    """The ``kalman`` claims: the Kalman baseline against its analytic floor (theory); per system the
    linear network's gap, impulse-response error and poles (findings, the median over replicates
    with its min-max interval); the gap across the noise sweep.

    STUDY.md's claim is about a linear RNN; other architectures (a tanh RNN) are reported in the
    notes, the dataset and the figures, not held to it.
    """
    out = []
    archs = list(ds["arch"].values)
    lags = int(ds.sizes["lag"])
    for system in ds["system"].values:
        s = ds.sel(system=system)
        label = str(s["label"].values)
        out.append(claim_close(
            f"kalman/kf_mse_vs_floor/{system}",
            f"steady-state Kalman predictor's test MSE against tr(C P C^T + R) / p ({label})",
            measured=float(s["mse_kf"]), expected=float(s["mse_floor"]),
            kind="theory", tolerance=N_STANDARD_ERRORS * float(s["mse_kf_se"]), unit="y^2", figure=SWEEP_FIGURE
            if bool(s["in_noise_sweep"]) else "",
            note=f"expected: the analytic floor from the discrete algebraic Riccati equation (STUDY.md); "
                 f"tolerance derived: {N_STANDARD_ERRORS:g} standard errors of the mean squared error over "
                 f"the test sequences; time-varying filter {float(s['mse_tv']):.4g}"
                 + ("" if bool(s["in_noise_sweep"]) else "; no figure shows it")))
        if CLAIMED_ARCH not in archs:
            continue
        runs = s.sel(arch=CLAIMED_ARCH)
        others = "; ".join(
            f"{arch}: median gap {float(np.median(s['gap_db'].sel(arch=arch))):+.3f} dB, median impulse-response "
            f"error {float(np.median(s['impulse_error'].sel(arch=arch))):.3g}"
            for arch in archs if arch != CLAIMED_ARCH)
        gap, gap_interval = median_interval(runs["gap_db"].values)
        out.append(claim_close(
            f"kalman/gap_db/{system}",
            f"10 log10(MSE_RNN / MSE_KF) on the test split, linear network on {label}, median over replicates",
            kind="finding", measured=gap, expected=0.0, tolerance=GAP_TOL_DB, unit="dB", figure=GAP_FIGURE,
            note=f"{gap_interval}; expected 0 dB: the Kalman predictor is the optimal predictor and a linear RNN "
                 f"can represent it (STUDY.md); tolerance {GAP_TOL_DB:g} dB: our declared choice; burn-in "
                 f"{ds.attrs['burn_in']} steps; the gap its impulse response implies in the stationary regime "
                 f"(exact for a linear network): median {float(np.median(runs['gap_db_population'])):+.4f} dB"
                 + (f"; {others}" if others else "")))
        error, error_interval = median_interval(runs["impulse_error"].values)
        rms = float(np.median(runs["network_estimation_rms"])) / float(s["kf_markov_norm"])
        tolerance = N_STANDARD_ERRORS * rms
        hidden = int(np.nanmax(runs["hidden_size"].values))
        out.append(claim_holds(
            f"kalman/impulse_response_error/{system}",
            f"relative error ||h_RNN - h_KF||_F / ||h_KF||_F of the linear network's first {lags} Markov "
            f"parameters C W^k U on {label}, median over replicates",
            kind="finding", criterion="<=", measured=error, expected=tolerance, passed=error <= tolerance,
            figure=IMPULSE_FIGURE,
            note=f"{error_interval}; expected 0: the Kalman predictor's impulse response C (A - A K C)^k A K is "
                 f"similarity-invariant; bound derived: {N_STANDARD_ERRORS:g} x the root-mean-square estimation "
                 f"error {rms:.3g} of a least-squares fit to the {int(s['n_train_observations'])} training "
                 f"observations (prediction-error covariance F^+ G F^+ / N at the Kalman predictor, Ljung 1999 "
                 f"sec. 9.3, times sqrt(H / n) for the network's H = {hidden} states, Akaike's final prediction "
                 f"error): the row asks whether training reached the accuracy its data allow; an excess MSE of "
                 f"{GAP_TOL_DB:g} dB allows up to {impulse_error_allowed_by_gap(s):.3g} (Toeplitz bound with "
                 f"lambda_min(R))"))
        ratio = runs["pole_backward_error"].values / runs["realisation_epsilon"].values
        measured, ratio_interval = median_interval(ratio)
        kappa = s["kf_condition"].values[: int(s["state_dim"])]
        displacement, _ = median_interval(runs["eigenvalue_error"].values)
        epsilon, _ = median_interval(runs["realisation_epsilon"].values)
        out.append(claim_holds(
            f"kalman/pole_backward_error/{system}",
            f"learned poles of the linear network on {label} (balanced truncation to n = {int(s['state_dim'])}) "
            f"as eigenvalues of a perturbed A - A K C: max_j sigma_min(mu_j I - W_KF) / eps, median over replicates",
            kind="finding", criterion="<=", measured=measured, expected=1.0, passed=measured <= 1.0,
            figure=EIGENVALUE_FIGURE,
            note=f"{ratio_interval}; each learned pole mu_j must lie in the eps-pseudospectrum of the Kalman "
                 f"recurrence (balanced realisation), eps = {float(s['realisation_sensitivity']):.3g} x the "
                 f"network's absolute impulse-response error: the largest recurrent-matrix change per unit change "
                 f"of the first {lags} Markov parameters (first order, similarity projected out), so eps is "
                 f"derived, not chosen; the region it allows is about kappa eps around a simple pole and up to "
                 f"eps^(1/m) around a Jordan block of size m (Trefethen & Embree 2005); eigenvalue condition "
                 f"numbers kappa {', '.join(f'{k:.3g}' for k in kappa)}; median eps {epsilon:.3g}, median max "
                 f"|mu - lambda| (Hungarian matching) {displacement:.3g}; the poles add no evidence beyond the "
                 f"impulse response: the row flags a learned realisation whose poles its impulse response does "
                 f"not explain"))
    if CLAIMED_ARCH in archs and bool(ds["in_noise_sweep"].any()):
        sweep = ds.sel(system=ds["in_noise_sweep"].values, arch=CLAIMED_ARCH)
        medians = np.median(sweep["gap_db"].values, axis=-1)
        worst = float(np.max(np.abs(medians)))
        n = int(sweep["state_dim"].values[0])
        points = ", ".join(f"{x + 0.0:+g} dB: {g:+.3f}" for x, g in zip(sweep["inverse_r2_db"].values, medians))
        out.append(claim_holds(
            "kalman/noise_sweep_max_gap_db",
            f"largest |median gap| of the linear network over the noise sweep ({sweep.sizes['system']} value(s) "
            f"of 1/r^2 at fixed q^2, canonical {n}x{n})",
            kind="finding", criterion="<=", measured=worst, expected=GAP_TOL_DB, passed=worst <= GAP_TOL_DB,
            unit="dB", figure=SWEEP_FIGURE,
            note=f"median gap (dB) over {int(sweep.sizes['replicate'])} replicates at 1/r^2 = {points}; bound "
                 f"{GAP_TOL_DB:g} dB: our declared choice, the per-system gap tolerance; KalmanNet (Revach et al. "
                 f"2022) sweeps 1/r^2 at a fixed ratio q^2/r^2, which for a linear system only rescales the data "
                 f"(our networks see y / std): here q^2 is fixed, so the gain and the poles change along the "
                 f"sweep"))
    return out
