"""The forward-Euler stage (claim ``euler``): exploding BPTT gradients are Euler's instability.

Forward Euler for dh/dt = J h is the linear RNN h <- (I + dt J) h. For stable linear ODEs the
growth rate of the BPTT gradient ||dL/dh_0|| is log max |1 + dt lambda| and changes sign where the
Euler step leaves the disc |1 + z| < 1 (for real lambda < 0: dt = 2/|lambda|; Hairer & Wanner,
"Solving ODEs II", sec. IV.2). On a chaotic flow the same spurious growth inflates the largest
Lyapunov exponent: the Euler map of Lorenz-63 has lambda_1 > 0.9056 (the flow's, Sprott 2003),
converging to it as dt -> 0, while the RK4 map's is within O(dt^4) of the flow's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.linalg
import xarray as xr

from rnndyn.analysis.euler import (
    bptt_gradient_norms,
    euler_matrix,
    euler_stability_boundary,
    growth_rate_per_step,
    locate_stability_switch,
)
from rnndyn.analysis.lyapunov import LyapunovResult, lyapunov_spectrum, lyapunov_spectrum_tangent, rk4_tangent_step
from rnndyn.claims import Claim, claim_close, claim_holds
from rnndyn.seeding import numpy_generator
from rnndyn.systems.lorenz import (
    LYAPUNOV_SPECTRUM,
    integrate_lorenz,
    lorenz_initial_states,
    lorenz_jacobian,
    lorenz_vector_field,
)

# STUDY.md: the Lorenz Euler map's lambda_1 at dt = 0.02, 0.01, 0.005 (three decimals); the value
# at dt = 0.001 comes from the stage's brief (two decimals). Value and half its last digit.
REFERENCE_EULER_LAMBDA1 = {0.02: (1.434, 5e-4), 0.01: (1.037, 5e-4), 0.005: (0.958, 5e-4), 0.001: (0.93, 5e-3)}
# Sprott's lambda_1 of the flow, printed to four decimals.
FLOW_LAMBDA1, FLOW_LAMBDA1_DIGITS = LYAPUNOV_SPECTRUM[0], 5e-5
SWITCH_TOL = 0.02
N_STANDARD_ERRORS = 3.0


def system_matrix(spec: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    """J = V B V^{-1} with B block diagonal in the prescribed eigenvalues.

    Parameters
    ----------
    spec
        ``real``: real eigenvalues (1/time); ``complex``: pairs ``[re, im]``, each the pair
        re +- i im (a 2 x 2 block [[re, -im], [im, re]]); ``basis``: ``"orthogonal"`` (V Haar
        orthogonal, J normal) or ``"random"`` (V standard Gaussian, J non-normal).
    rng
        Draws V.

    Returns
    -------
    numpy.ndarray
        J (n, n), float64, n = len(real) + 2 len(complex).
    """
    blocks = [np.array([[lam]]) for lam in spec.get("real", [])]
    blocks += [np.array([[re, -im], [im, re]]) for re, im in spec.get("complex", [])]
    B = scipy.linalg.block_diag(*blocks)
    n = B.shape[0]
    G = rng.standard_normal((n, n))
    if spec["basis"] == "orthogonal":
        Q, R = np.linalg.qr(G)
        V = Q * np.sign(np.diag(R))
        return V @ B @ V.T
    return G @ B @ np.linalg.inv(G)


def gradient_sweep(J: np.ndarray, cfg: dict[str, Any]) -> dict[str, Any]:
    """BPTT gradient norms and growth rates of W = I + dt J over a dt grid around Euler's boundary.

    Parameters
    ----------
    J
        (n, n) stable system matrix.
    cfg
        The ``euler`` config section: ``dt_over_boundary`` grid, ``T_values``, ``n_bisect``.

    Returns
    -------
    dict
        ``boundary`` (min over eig J of the analytic boundary), ``dt`` (D,), ``norms`` (D, T),
        ``rate`` (D,) measured, ``rate_predicted`` (D,) = log max |1 + dt lambda|, ``switch`` the
        measured dt where the rate turns non-negative (NaN if it does not on the grid).
    """
    eigenvalues = np.linalg.eigvals(J)
    boundary = float(np.min(euler_stability_boundary(eigenvalues)))
    ratio = cfg["dt_over_boundary"]
    dt = boundary * np.linspace(ratio["start"], ratio["stop"], ratio["num"])
    T_values = list(cfg["T_values"])
    norms = np.array([bptt_gradient_norms(euler_matrix(J, step), T_values) for step in dt])
    rate = np.array([growth_rate_per_step(row, T_values) for row in norms])
    with np.errstate(divide="ignore"):  # a multiplier exactly 0 (dt = 1/|lambda|) has rate -inf
        predicted = np.log(np.max(np.abs(1.0 + dt[:, None] * eigenvalues[None, :]), axis=1))
    try:
        switch = locate_stability_switch(J, dt, T_values=T_values, n_bisect=cfg["n_bisect"])
    except ValueError:  # no sign change on the grid: recorded as NaN, the claim then fails
        switch = math.nan
    return {"boundary": boundary, "dt": dt, "norms": norms, "rate": rate, "rate_predicted": predicted,
            "switch": switch, "eigenvalues": eigenvalues}


def analyse_gradients(cfg: dict[str, Any], base_seed: int) -> xr.Dataset:
    """:func:`gradient_sweep` for every system of the config (one generator per system).

    Returns
    -------
    xarray.Dataset
        Dims (system, dt_ratio, T, mode); eigenvalues padded with NaN to the largest system.
    """
    names = list(cfg["systems"])
    sweeps = [gradient_sweep(system_matrix(cfg["systems"][name], numpy_generator(base_seed, "euler", name)), cfg)
              for name in names]
    n_modes = max(s["eigenvalues"].size for s in sweeps)
    eig = np.full((len(names), n_modes), np.nan + 0j)
    for i, s in enumerate(sweeps):
        eig[i, : s["eigenvalues"].size] = np.sort_complex(s["eigenvalues"])
    ratio = cfg["dt_over_boundary"]
    dims = ("system", "dt_ratio")
    return xr.Dataset(
        {
            "dt": (dims, np.array([s["dt"] for s in sweeps]), {"long_name": "Euler step dt", "units": "time"}),
            "gradient_norm": (dims + ("T",), np.array([s["norms"] for s in sweeps]),
                              {"long_name": "BPTT gradient norm ||dL/dh_0|| of L = c . h_T", "units": "1"}),
            "growth_rate": (dims, np.array([s["rate"] for s in sweeps]),
                            {"long_name": "fitted slope of log ||dL/dh_0|| against T", "units": "1/step"}),
            "growth_rate_predicted": (dims, np.array([s["rate_predicted"] for s in sweeps]),
                                      {"long_name": "log max |1 + dt lambda|", "units": "1/step"}),
            "boundary": (("system",), np.array([s["boundary"] for s in sweeps]),
                         {"long_name": "analytic stability boundary min -2 Re(lambda) / |lambda|^2",
                          "units": "time"}),
            "switch": (("system",), np.array([s["switch"] for s in sweeps]),
                       {"long_name": "measured dt where the gradient growth rate turns non-negative",
                        "units": "time"}),
            "eigenvalue_real": (("system", "mode"), eig.real,
                                {"long_name": "real part of the eigenvalues of J", "units": "1/time"}),
            "eigenvalue_imag": (("system", "mode"), eig.imag,
                                {"long_name": "imaginary part of the eigenvalues of J", "units": "1/time"}),
        },
        coords={
            "system": ("system", np.array(names, dtype=object), {"long_name": "linear ODE", "units": "1"}),
            "dt_ratio": ("dt_ratio", np.linspace(ratio["start"], ratio["stop"], ratio["num"]),
                         {"long_name": "dt / analytic boundary", "units": "1"}),
            "T": ("T", np.asarray(cfg["T_values"]), {"long_name": "sequence length", "units": "step"}),
            "mode": ("mode", np.arange(n_modes), {"long_name": "eigenvalue index", "units": "1"}),
            "basis": ("system", np.array([cfg["systems"][n]["basis"] for n in names], dtype=object),
                      {"long_name": "eigenbasis: orthogonal (J normal) or random (non-normal)", "units": "1"}),
        },
        attrs={"title": "BPTT gradients of forward Euler on stable linear ODEs", "n_bisect": cfg["n_bisect"]},
    )


def euler_lorenz_lambda1(rng: np.random.Generator, dt: float, cfg: dict[str, Any]) -> LyapunovResult:
    """Largest Lyapunov exponent of the forward-Euler map x <- x + dt f(x) of Lorenz-63.

    Random initial states are iterated by the Euler map itself for ``t_transient`` (its attractor
    is not the flow's), then the tangent vector for another ``t_transient`` before averaging over
    ``t_total``; the Jacobian of the map is I + dt Df(x) exactly.

    Parameters
    ----------
    rng
        Initial states and tangent vector.
    dt
        Step (time units).
    cfg
        ``n_trajectories``, ``t_total``, ``t_transient`` (time units).

    Returns
    -------
    LyapunovResult
        Exponents per unit time, (B, 1).
    """
    n_transient = int(round(cfg["t_transient"] / dt))
    x = lorenz_initial_states(rng, cfg["n_trajectories"])
    for _ in range(n_transient):
        x = x + dt * lorenz_vector_field(x)
    identity = np.eye(3)
    return lyapunov_spectrum(
        lambda state: state + dt * lorenz_vector_field(state),
        lambda state: identity + dt * lorenz_jacobian(state),
        x, n_steps=int(round(cfg["t_total"] / dt)), n_transient=n_transient, dt=dt, n_exponents=1, rng=rng)


def rk4_lorenz_lambda1(rng: np.random.Generator, dt: float, cfg: dict[str, Any]) -> LyapunovResult:
    """Largest Lyapunov exponent of the RK4 map of Lorenz-63 with the same budget as
    :func:`euler_lorenz_lambda1` (tangent by the exact derivative of the RK4 step)."""
    n_transient = int(round(cfg["t_transient"] / dt))
    x = integrate_lorenz(lorenz_initial_states(rng, cfg["n_trajectories"]), dt=dt, n_steps=0,
                         n_transient=n_transient)[:, 0]

    def tangent_step(state: np.ndarray, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return rk4_tangent_step(lorenz_vector_field, lorenz_jacobian, state, basis, dt)

    return lyapunov_spectrum_tangent(tangent_step, x, n_steps=int(round(cfg["t_total"] / dt)),
                                     n_transient=n_transient, dt=dt, n_exponents=1, rng=rng)


INTEGRATORS = {"euler": euler_lorenz_lambda1, "rk4": rk4_lorenz_lambda1}


def lorenz_lyapunov(rng: np.random.Generator, integrator: str, dt: float, cfg: dict[str, Any]) -> xr.Dataset:
    """lambda_1 of the ``integrator`` map ("euler" or "rk4") of Lorenz-63 at step ``dt``, per trajectory.

    Returns
    -------
    xarray.Dataset
        ``lambda1`` (trajectory), the batch mean of the running estimate (record), and the scalar
        coordinates ``integrator`` and ``dt``.
    """
    result = INTEGRATORS[integrator](rng, dt, cfg)
    return xr.Dataset(
        {
            "lambda1": (("trajectory",), result.exponents[:, 0],
                        {"long_name": "largest Lyapunov exponent of one trajectory", "units": "1/time"}),
            "lambda1_running": (("record",), result.running[:, :, 0].mean(axis=1),
                                {"long_name": "batch mean of the running estimate", "units": "1/time"}),
        },
        coords={"trajectory": ("trajectory", np.arange(cfg["n_trajectories"]),
                               {"long_name": "initial condition", "units": "1"}),
                "averaging_time": ("record", result.times,
                                   {"long_name": "averaging time of the running estimate", "units": "time"}),
                "integrator": ((), integrator, {"long_name": "integrator whose map is analysed", "units": "1"}),
                "dt": ((), dt, {"long_name": "step", "units": "time"})},
        attrs={"title": f"Largest Lyapunov exponent of the {integrator} map of Lorenz-63",
               "t_total": cfg["t_total"], "t_transient": cfg["t_transient"]},
    )


def _batch_mean(ds: xr.Dataset) -> tuple[float, float, int]:
    """Mean, standard error and count of the finite per-trajectory exponents."""
    lam = ds["lambda1"].values
    lam = lam[np.isfinite(lam)]
    return float(lam.mean()), float(lam.std(ddof=1) / math.sqrt(lam.size)), int(lam.size)


def claims(gradients: xr.Dataset, lorenz: list[xr.Dataset]) -> list[Claim]:
    """The ``euler`` claims: the gradient switch per system, lambda_1 of Lorenz's Euler map per dt."""
    out = []
    for name in gradients["system"].values:
        g = gradients.sel(system=name)
        # Non-finite: a multiplier exactly 0, or a gradient that underflowed.
        finite = np.isfinite(g["growth_rate_predicted"]) & np.isfinite(g["growth_rate"])
        rate_error = float(np.abs(g["growth_rate"] - g["growth_rate_predicted"]).where(finite).max())
        out.append(claim_close(
            f"euler/switch_dt_ratio/{name}",
            f"measured dt of the BPTT decay-to-growth switch / analytic boundary ({name}: {g['basis'].item()} J)",
            measured=float(g["switch"] / g["boundary"]), expected=1.0, tolerance=SWITCH_TOL,
            note=f"boundary dt = {float(g['boundary']):.6g}; T = {int(g['T'][0])}..{int(g['T'][-1])}; "
                 f"max |rate - log max|1 + dt lambda|| on the grid {rate_error:.2g} per step"))
    runs = {(str(ds["integrator"].item()), float(ds["dt"])): ds for ds in lorenz}
    rk4_dt = [dt for integrator, dt in runs if integrator == "rk4"]
    flow_dt = min(rk4_dt) if rk4_dt else None
    flow_mean, flow_se, _ = _batch_mean(runs["rk4", flow_dt]) if rk4_dt else (math.nan, math.nan, 0)
    for (integrator, dt), ds in sorted(runs.items(), key=lambda item: (item[0][0], -item[0][1])):
        mean, se, n = _batch_mean(ds)
        budget = (f"{n} trajectories x {ds.attrs['t_total']:g} time units, standard error {se:.2g}; "
                  f"tolerance 3 standard errors + half the reference's last digit")
        if integrator == "rk4":
            out.append(claim_close(
                f"euler/lorenz_lambda1_rk4_dt={dt:g}",
                f"largest Lyapunov exponent of the RK4 map of Lorenz-63, dt = {dt:g} (flow: Sprott 2003)",
                measured=mean, expected=FLOW_LAMBDA1, tolerance=N_STANDARD_ERRORS * se + FLOW_LAMBDA1_DIGITS,
                unit="1/time", note=f"{budget}; RK4's O(dt^4) bias is far below it"))
            continue
        if dt in REFERENCE_EULER_LAMBDA1:
            reference, digits = REFERENCE_EULER_LAMBDA1[dt]
            out.append(claim_close(
                f"euler/lorenz_lambda1_euler_dt={dt:g}",
                f"largest Lyapunov exponent of the forward-Euler map of Lorenz-63, dt = {dt:g}",
                measured=mean, expected=reference, tolerance=N_STANDARD_ERRORS * se + digits,
                unit="1/time", note=budget))
        if flow_dt is None:
            continue
        excess, excess_se = mean - flow_mean, math.hypot(se, flow_se)
        out.append(claim_holds(
            f"euler/lorenz_spurious_growth_dt={dt:g}",
            f"lambda_1(Euler map, dt = {dt:g}) - lambda_1(RK4 map, dt = {flow_dt:g}): Euler's spurious growth",
            measured=excess, expected=0.0, passed=excess > N_STANDARD_ERRORS * excess_se, unit="1/time",
            note=f"passes if positive by more than 3 standard errors ({excess_se:.2g})"))
    return out
