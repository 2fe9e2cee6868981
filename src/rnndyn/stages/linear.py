"""The linear-RNN stage (claims ``memory`` and ``linear-fixed-point``): unrolling, impulse
responses over a sweep of the spectral radius, and convergence under a constant input.

h_t = W h_{t-1} + U x_t unrolls to h_T = sum_i W^i U x_{T-i} + W^T h_0, so an input i steps in the
past reaches the state through W^i: the impulse response ||W^k U|| decays asymptotically at the rate
log rho(W) per step, and with a constant input u the state converges to (I - W)^{-1} U u iff
rho(W) < 1. Random W of each spectral radius come in two kinds: normal (||W^k|| = rho^k, no
transient) and non-normal (same eigenvalues, transient amplification first; Trefethen & Embree
2005; Ganguli, Huh & Sompolinsky 2008).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg
import xarray as xr

from rnndyn.analysis.linear import (
    constant_input_fixed_point,
    converges_to_fixed_point,
    decay_rate,
    impulse_response,
    iterate_constant_input,
    memory_horizon,
    predicted_memory_horizon,
    random_matrix_with_spectral_radius,
    recurrent_state,
    unrolled_state,
)
from rnndyn.claims import Claim, claim_close, claim_holds

if TYPE_CHECKING:
    from rnndyn.jobs import Job

KINDS = ("normal", "nonnormal")
# ||W^k U|| <= rho^k ||U|| for a normal W, so with rho <= 1 the response never exceeds its start;
# rounding of the products may put it a few ulps above.
PEAK_ROUNDOFF_TOL = 1e-12
# A sub-dominant mode of modulus r < rho carrying p times the dominant power at lag k moves the
# local slope of log ||W^k U|| by at most p |d| exp(-2 k |d|) <= p / (2 e k), d = log(r / rho)
# (e = exp(1)); the least-squares slope averages the local slopes over the tail, so 0.01 per step
# admits p <= 2 e k_start 0.01 (about 22 at k_start = 400: non-normal transients amplify
# sub-dominant modes several-fold).
DECAY_RATE_TOL = 0.01


def sweep_matrices(rng: np.random.Generator, cfg: dict[str, Any]) -> xr.Dataset:
    """Random recurrent matrices of the sweep, with their input vectors.

    Parameters
    ----------
    rng
        Source of randomness.
    cfg
        The ``linear`` config section (``rho``, ``n_matrices``, ``n_hidden``, ``coupling``).

    Returns
    -------
    xarray.Dataset
        ``W`` (kind, rho, matrix, row, col), exactly of spectral radius ``rho``; ``U``
        (kind, rho, matrix, row), unit-norm random input vectors (one input channel).
    """
    rho = np.asarray(cfg["rho"], dtype=np.float64)
    n, n_matrices = cfg["n_hidden"], cfg["n_matrices"]
    W = np.empty((len(KINDS), rho.size, n_matrices, n, n))
    U = np.empty((len(KINDS), rho.size, n_matrices, n))
    for k, kind in enumerate(KINDS):
        for r, radius in enumerate(rho):
            for j in range(n_matrices):
                W[k, r, j] = random_matrix_with_spectral_radius(
                    rng, n, float(radius), normal=kind == "normal", coupling=cfg["coupling"])
                u = rng.standard_normal(n)
                U[k, r, j] = u / np.linalg.norm(u)
    return xr.Dataset(
        {
            "W": (("kind", "rho", "matrix", "row", "col"), W,
                  {"long_name": "recurrent matrix", "units": "1"}),
            "U": (("kind", "rho", "matrix", "row"), U,
                  {"long_name": "input vector (unit norm)", "units": "1"}),
        },
        coords=_coords(rho, n_matrices),
    )


def unroll_errors(rng: np.random.Generator, W: np.ndarray, n_inputs: int, n_steps: int) -> np.ndarray:
    """Relative difference between the unrolled sum and the recursion for each matrix.

    Parameters
    ----------
    rng
        Draws U (n, n_inputs), the inputs (n_steps, n_inputs) and h_0 (n,), standard normal.
    W
        (..., n, n) recurrent matrices.
    n_inputs, n_steps
        m and T.

    Returns
    -------
    numpy.ndarray
        (...) values of ||h_unrolled - h_recursion|| / ||h_recursion||.
    """
    flat = W.reshape(-1, *W.shape[-2:])
    n = flat.shape[-1]
    errors = np.empty(flat.shape[0])
    for i, W_i in enumerate(flat):
        U = rng.standard_normal((n, n_inputs))
        x = rng.standard_normal((n_steps, n_inputs))
        h0 = rng.standard_normal(n)
        recursion = recurrent_state(W_i, U, x, h0)
        errors[i] = np.linalg.norm(unrolled_state(W_i, U, x, h0) - recursion) / np.linalg.norm(recursion)
    return errors.reshape(W.shape[:-2])


def dominant_amplitude(W: np.ndarray, U: np.ndarray, rho: float) -> float:
    """||P U|| / ||U|| for a normal W, P the orthogonal projector on its eigenvalues of modulus rho.

    The complex Schur form of a normal matrix is diagonal with unitary Schur vectors, so the
    amplitudes of U along the eigenvectors are the moduli of Z^H U.
    """
    T, Z = scipy.linalg.schur(W.astype(np.complex128), output="complex")
    dominant = np.isclose(np.abs(np.diag(T)), rho, rtol=1e-9, atol=0.0)
    return float(np.linalg.norm((Z.conj().T @ U)[dominant]) / np.linalg.norm(U))


def horizon_lower_bound(rho: float, threshold: float, amplitude: float) -> float:
    """log(threshold / a) / log(rho): before this lag the dominant modes alone, a rho^k ||U||,
    keep a normal W's response above ``threshold`` (the upper bound is log(threshold)/log(rho))."""
    return math.log(threshold / amplitude) / math.log(rho) if rho < 1 else math.inf


def analyse(sweep: xr.Dataset, rng: np.random.Generator, cfg: dict[str, Any]) -> xr.Dataset:
    """Unroll check, impulse responses, memory horizons and constant-input convergence.

    Parameters
    ----------
    sweep
        From :func:`sweep_matrices`.
    rng
        Draws the unroll check's inputs and the constant-input runs' u and h_0.
    cfg
        The ``linear`` config section.

    Returns
    -------
    xarray.Dataset
        Everything the claims and figures need, on dims (kind, rho, matrix[, lag | t]).
    """
    rho = sweep["rho"].values
    W, U = sweep["W"].values, sweep["U"].values
    n_lags, threshold, tail = cfg["n_lags"], cfg["horizon_threshold"], cfg["tail_fraction"]
    n_steps, n_record = cfg["n_steps_constant_input"], cfg["record_every"]
    shape = W.shape[:3]
    norms = np.empty(shape + (n_lags,))
    rate = np.empty(shape)
    horizon = np.empty(shape)
    lower = np.full(shape, np.nan)
    converged = np.empty(shape, dtype=bool)
    t_record = np.arange(0, n_steps + 1, n_record)
    distance = np.empty(shape + (t_record.size,))
    fixed_point_residual = np.empty(shape)
    for index in np.ndindex(shape):
        kind, radius = KINDS[index[0]], float(rho[index[1]])
        W_i, U_i = W[index], U[index]
        norms[index] = impulse_response(W_i, U_i, n_lags)
        rate[index] = decay_rate(norms[index], tail_fraction=tail)
        horizon[index] = memory_horizon(norms[index], threshold)
        if kind == "normal" and radius < 1:
            lower[index] = horizon_lower_bound(radius, threshold, dominant_amplitude(W_i, U_i, radius))
        u = rng.standard_normal(1)
        h0 = rng.standard_normal(W_i.shape[0])
        U_col = U_i[:, None]
        converged[index] = converges_to_fixed_point(W_i, U_col, u, h0, n_steps, rtol=cfg["convergence_rtol"])
        h_star = constant_input_fixed_point(W_i, U_col, u)
        fixed_point_residual[index] = np.linalg.norm(W_i @ h_star + U_col @ u - h_star) / np.linalg.norm(h_star)
        trajectory = iterate_constant_input(W_i, U_col, u, h0, n_steps)[t_record]
        with np.errstate(over="ignore", invalid="ignore"):
            distance[index] = np.linalg.norm(trajectory - h_star, axis=-1) / np.linalg.norm(h0 - h_star)
    predicted = np.array([predicted_memory_horizon(float(r), threshold) for r in rho])
    k_start = n_lags - max(2, int(round(tail * n_lags)))
    dims = ("kind", "rho", "matrix")
    return xr.Dataset(
        {
            "unroll_rel_error": (dims, unroll_errors(rng, W, cfg["n_inputs"], cfg["n_unroll_steps"]),
                                 {"long_name": "||h_unrolled - h_recursion|| / ||h_recursion|| "
                                               "(random U, inputs, h0)", "units": "1"}),
            "impulse_norm": (dims + ("lag",), norms,
                             {"long_name": "impulse response ||W^k U|| (||U|| = 1)", "units": "1"}),
            "decay_rate": (dims, rate, {"long_name": "fitted log-norm slope of the impulse-response tail",
                                        "units": "1/step"}),
            "log_rho": (("rho",), np.log(rho), {"long_name": "log spectral radius", "units": "1/step"}),
            "peak_amplification": (dims, norms.max(axis=-1),
                                   {"long_name": "max_k ||W^k U|| / ||U|| over the lags", "units": "1"}),
            "memory_horizon": (dims, horizon,
                               {"long_name": "lag after which the response stays below the threshold",
                                "units": "step"}),
            "memory_horizon_predicted": (("rho",), predicted,
                                         {"long_name": "log(threshold) / log(rho)", "units": "step"}),
            "memory_horizon_lower_bound": (dims, lower,
                                           {"long_name": "log(threshold / a) / log(rho), a = dominant-mode "
                                                         "amplitude (normal W, rho < 1)", "units": "step"}),
            "converged": (dims, converged,
                          {"long_name": "constant-input run reached (I - W)^-1 U u within rtol", "units": "1"}),
            "fixed_point_residual": (dims, fixed_point_residual,
                                     {"long_name": "||W h* + U u - h*|| / ||h*|| of the solved fixed point",
                                      "units": "1"}),
            "distance": (dims + ("t",), distance,
                         {"long_name": "||h_t - h*|| / ||h_0 - h*|| under a constant input", "units": "1"}),
        },
        coords={**_coords(rho, W.shape[2]),
                "lag": ("lag", np.arange(n_lags), {"long_name": "lag k", "units": "step"}),
                "t": ("t", t_record, {"long_name": "step of the constant-input run", "units": "step"})},
        attrs={"title": "Linear RNN: unrolling, impulse responses, constant-input fixed point",
               "n_hidden": int(W.shape[-1]), "n_unroll_steps": cfg["n_unroll_steps"],
               "n_inputs": cfg["n_inputs"], "horizon_threshold": threshold, "tail_start_lag": k_start,
               "convergence_rtol": cfg["convergence_rtol"], "n_steps_constant_input": n_steps},
    )


def claims(ds: xr.Dataset) -> list[Claim]:
    """The ``memory`` and ``linear-fixed-point`` claims of STUDY.md from :func:`analyse`'s dataset."""
    impulse, convergence = "linear_impulse_response", "linear_convergence"  # STAGE_FIGURES of linear.smk
    n, T = ds.attrs["n_hidden"], ds.attrs["n_unroll_steps"]
    eps = float(np.finfo(np.float64).eps)
    # A T-step recursion of n-term dot products: forward error of order T n eps relative to the
    # magnitudes summed (Higham 2002, "Accuracy and Stability of Numerical Algorithms", sec. 3.1).
    unroll_tol = T * n * eps
    k_start = ds.attrs["tail_start_lag"]
    # Sub-dominant power the rate tolerance admits at the start of the fitted tail (DECAY_RATE_TOL).
    admitted_power = 2.0 * math.e * k_start * DECAY_RATE_TOL
    rho = ds["rho"]
    stable = rho < 1.0
    out = [claim_close(
        "memory/unroll_max_rel_error",
        "max ||unrolled sum - recursion|| / ||recursion|| over every W of the sweep (random inputs)",
        kind="identity", figure="",
        measured=float(ds["unroll_rel_error"].max()), expected=0.0, tolerance=unroll_tol,
        note=f"T = {T} steps, n = {n}, {ds['unroll_rel_error'].size} matrices; the unrolled sum equals the "
             "recursion algebraically (expected 0); tolerance T n eps, derived from the round-off of a T-step "
             "recursion of n-term dot products (Higham 2002, sec. 3.1)")]
    for kind in KINDS:
        error = np.abs(ds["decay_rate"].sel(kind=kind) - ds["log_rho"])
        worst = error.where(error == error.max(), drop=True)
        out.append(claim_close(
            f"memory/decay_rate_max_error_{kind}",
            f"max |fitted impulse-response decay rate - log rho(W)| over {kind} W",
            kind="theory", figure=impulse,
            measured=float(error.max()), expected=0.0, tolerance=DECAY_RATE_TOL, unit="1/step",
            note=f"tail lags {k_start}..{ds.sizes['lag'] - 1}; {error.size} matrices; worst at rho = "
                 f"{float(worst['rho'][0]):g}; expected: the asymptotic decay rate log rho(W) (analytic); "
                 f"tolerance 0.01 per step, our declared choice, sized by an analytic bound: it admits "
                 f"sub-dominant modes carrying up to {admitted_power:.3g} times the dominant power at lag "
                 f"{k_start} (slope bias <= p / (2 e k))"))
    peak_normal = ds["peak_amplification"].sel(kind="normal").where(rho <= 1.0)
    out.append(claim_close(
        "memory/peak_amplification_normal",
        "max_k ||W^k U|| / ||U|| for normal W with rho <= 1 (no transient growth)",
        kind="identity", figure=impulse,
        measured=float(peak_normal.max()), expected=1.0, tolerance=PEAK_ROUNDOFF_TOL,
        note="normal W: ||W^k|| = rho^k, so the peak is ||U|| at k = 0 by construction of W (expected 1); "
             "tolerance 1e-12, a few ulps of round-off in the products (our declared allowance)"))
    peak_nonnormal = ds["peak_amplification"].sel(kind="nonnormal").where(stable)
    median_peak = float(peak_nonnormal.median())
    out.append(claim_holds(
        "memory/transient_growth_nonnormal",
        "median max_k ||W^k U|| / ||U|| for non-normal W with rho < 1 (transient growth before decay)",
        kind="identity", criterion=">", figure=impulse,
        measured=median_peak, expected=1.0, passed=median_peak > 1.0,
        note=f"the non-normal W are built with a coupling that makes them grow "
             f"first (Trefethen & Embree 2005), so growth holds by construction; no tolerance; "
             f"range {float(peak_nonnormal.min()):.3g}..{float(peak_nonnormal.max()):.3g}; "
             f"memory horizon / prediction: median "
             f"{float((ds['memory_horizon'] / ds['memory_horizon_predicted']).sel(kind='nonnormal').where(stable).median()):.3g}"
             f" (normal W: {float((ds['memory_horizon'] / ds['memory_horizon_predicted']).sel(kind='normal').where(stable).median()):.3g})"))
    horizon = ds["memory_horizon"].sel(kind="normal").where(stable, drop=True)
    upper = np.ceil(ds["memory_horizon_predicted"].where(stable, drop=True))
    lower = ds["memory_horizon_lower_bound"].sel(kind="normal").where(stable, drop=True)
    within = (horizon <= upper) & (horizon >= lower)
    fraction = float(within.mean())
    out.append(claim_holds(
        "memory/horizon_within_prediction_normal",
        "fraction of normal W (rho < 1) whose memory horizon lies in "
        "[log(thr/a)/log rho, ceil(log(thr)/log rho)]",
        kind="theory", criterion="=", figure="",
        measured=fraction, expected=1.0, passed=fraction == 1.0,
        note=f"threshold {ds.attrs['horizon_threshold']:g}; a = amplitude of U on the modulus-rho eigenvectors; "
             f"{within.size} matrices; expected: every horizon within its analytic bounds (exactly all); "
             "the threshold is our declared choice; no figure shows the horizons"))
    rtol = ds.attrs["convergence_rtol"]
    for label, region, should in (("converged_rho_below_1", stable, True),
                                  ("diverged_rho_at_or_above_1", ~stable, False)):
        correct = (ds["converged"] == should).where(region, drop=True)
        fraction = float(correct.mean())
        out.append(claim_holds(
            f"linear-fixed-point/{label}",
            f"fraction of constant-input runs with rho {'<' if should else '>='} 1 that "
            f"{'converge to' if should else 'do not converge to'} (I - W)^-1 U u",
            kind="theory", criterion="=", figure=convergence,
            measured=fraction, expected=1.0, passed=fraction == 1.0,
            note=f"{correct.size} runs (normal and non-normal W), {ds.attrs['n_steps_constant_input']} steps, "
                 f"converged = distance shrunk by {rtol:g}; expected: all of them (convergence iff "
                 f"rho(W) < 1, analytic); the factor {rtol:g} is our declared choice; the number of steps is "
                 "sized to exceed log(rtol) / log(rho) for the largest rho < 1 swept plus the non-normal "
                 "transient (derived)"))
    return out


def analysis_job(job: Job) -> None:
    """Job ``linear_analysis``: the sweep, its analysis and the ``memory`` / ``linear-fixed-point`` claims.

    One stream (no purpose: its seed is the stage's own, ``derive_seed(seed, "linear")``) draws the
    matrices, then the analysis's inputs, in that order.
    """
    rng = job.streams.numpy()
    sweep = sweep_matrices(rng, job.config)
    result = analyse(sweep, rng, job.config).merge(sweep)
    job.write(result, "sweep")
    job.write_claims(claims(result))


def _coords(rho: np.ndarray, n_matrices: int) -> dict[str, Any]:
    return {
        "kind": ("kind", np.array(KINDS, dtype=object), {"long_name": "normal or non-normal W (same eigenvalue law)", "units": "1"}),
        "rho": ("rho", rho, {"long_name": "spectral radius rho(W)", "units": "1"}),
        "matrix": ("matrix", np.arange(n_matrices), {"long_name": "random matrix index", "units": "1"}),
    }
