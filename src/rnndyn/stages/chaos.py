"""The chaos stage (claim ``lyapunov-gradient``): random tanh networks, Lyapunov spectra, BPTT.

Networks ``h_{t+1} = tanh(W h_t + u_t)`` with ``W = g J``, ``J ~ N(0, 1/N)`` (one ``J`` per size
and seed, scaled over the sweep of the gain ``g``, so that each seed's sweep is a smooth family),
undriven (``u = 0``) or driven by small white noise ``u_t ~ N(0, σ² I)``.

- **Largest exponent** λ1 on a fine grid of ``g`` (QR of one tangent vector, several
  trajectories per network) and the **full spectrum** on a coarse grid (QR of ``N`` vectors), in
  float64, with the Kaplan–Yorke dimension and the entropy (sum of the positive exponents; the
  Kolmogorov–Sinai entropy by Pesin's formula).
- **Edge of chaos.** Without drive, ``h = 0`` is a fixed point with Jacobian ``W``, so
  λ1 = log(g ρ(J)) while it is stable; it loses stability at ``g = 1/ρ(J)``, which tends to 1 as
  ``N → ∞`` (circular law, ρ(J) → 1). For finite ``N`` the discrete-time network passes through
  a window of periodic and quasi-periodic motion (λ1 = 0) before becoming chaotic (Doyon, Cessac,
  Quoy & Samuelides 1993, Int. J. Bifurc. Chaos 3, 279; Cessac 1995, J. Phys. I 5, 409); the
  window closes as ``N`` grows. Both crossings are reported: ``g*`` where λ1 leaves negative
  values and ``g_chaos`` where it becomes positive.
- **Size invariance.** λ_i plotted against ``i/N`` is nearly the same curve for every ``N``, and
  the Kaplan–Yorke dimension is a small fraction of ``N`` (Engelken, Wolf & Abbott 2023, Phys.
  Rev. Research 5, 043044, for the continuous-time rate network).
- **BPTT.** The growth rate per step of ``‖∂L/∂h_{T−ℓ}‖`` against the lag ℓ equals λ1
  (:mod:`rnndyn.analysis.gradients`): positive λ1 = exploding gradients, negative = vanishing.
  Beside it, the article's heuristic ``log(ρ(W) E|f′|)`` (a Jacobian's typical gain).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import scipy.stats
import torch
import xarray as xr

from rnndyn.analysis.gradients import bptt_log_gradient_norms, gradient_growth_rate
from rnndyn.analysis.lyapunov import kaplan_yorke_dimension, lyapunov_spectrum_tangent
from rnndyn.claims import Claim, claim_close, claim_holds
from rnndyn.seeding import derive_seed, numpy_generator, torch_generator

# Gradient growth rate and λ1 agree within 5 % or 0.01 per step, whichever is larger (the brief).
SLOPE_REL_TOL, SLOPE_ABS_TOL = 0.05, 0.01
# Confidence level of the interval on g* over seeds.
CONFIDENCE = 0.95
# Differences of seed-mean spectra within this many standard errors are attributed to sampling.
N_STANDARD_ERRORS = 2.0


FINITE_SIZE_NOTE = ("; a finite discrete-time network passes through periodic / quasi-periodic motion "
                    "(lambda1 = 0) between the loss of the fixed point and chaos, a window that closes as N grows "
                    "(Doyon et al. 1993)")
DRIVE_NOTE = "; input noise suppresses chaos and moves the transition above g = 1 (Molgedey et al. 1992, PRL 69, 3717)"


def coupling_matrix(n: int, generator: torch.Generator) -> torch.Tensor:
    """``J`` ``(n, n)`` float64 with i.i.d. entries ``N(0, 1/n)``; ``W = g J`` has ρ(W) → g."""
    return torch.randn(n, n, dtype=torch.float64, generator=generator) / math.sqrt(n)


def _batched_map(weights: torch.Tensor, sigma: torch.Tensor, noise: torch.Generator | None):
    """Step ``h ← tanh(W_g h + σ ξ)`` and its tangent map on a batch laid out as ``(G, R, N)``.

    ``weights`` is ``(G, N, N)``; ``sigma`` ``(R, 1)`` is the drive of each of the ``R`` rows that
    share a network (rows: drive × trajectory). States come in flat ``(G·R, N)`` as the Lyapunov
    engine wants them; the product with ``W`` is one batched matrix product per ``g``.
    """
    n_g, n = weights.shape[0], weights.shape[-1]
    transposed = weights.transpose(-1, -2)

    def step(h: torch.Tensor) -> torch.Tensor:
        drive = 0.0
        if noise is not None:
            drive = sigma * torch.randn(h.shape, dtype=h.dtype, generator=noise, device=h.device).view(
                n_g, -1, n)
        return torch.tanh(h.view(n_g, -1, n) @ transposed + drive).view(h.shape)

    def tangent_step(h: torch.Tensor, basis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h_next = step(h)
        k = basis.shape[-1]
        # One (N × N) @ (N × R·k) product per g: broadcasting W over the R rows instead would
        # materialise R copies of it.
        columns = basis.view(n_g, -1, n, k).transpose(1, 2).reshape(n_g, n, -1)
        pushed = (weights @ columns).view(n_g, n, -1, k).transpose(1, 2)  # (G, R, N, k)
        slope = (1.0 - h_next * h_next).view(n_g, -1, n, 1)
        return h_next, (slope * pushed).reshape(basis.shape)

    return step, tangent_step


def _rows(drives: np.ndarray, n_trajectories: int, device: torch.device) -> torch.Tensor:
    """Drive σ of each row ``(D·M, 1)``, rows ordered (drive, trajectory)."""
    return torch.from_numpy(np.repeat(drives, n_trajectories)[:, None]).to(device)


def _settled_states(step: Callable[[torch.Tensor], torch.Tensor], n_rows: int, n: int, n_transient: int,
                    generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """``(n_rows, N)`` states after ``n_transient`` steps from starts uniform in ``[-1, 1]^N``."""
    h = (2.0 * torch.rand(n_rows, n, dtype=torch.float64, generator=generator) - 1.0).to(device)
    with torch.no_grad():
        for _ in range(n_transient):
            h = step(h)
    return h


def _full_spectra(J: torch.Tensor, gains: np.ndarray, drives: np.ndarray, cfg: dict[str, Any], *,
                  base_seed: int, keys: tuple, device: torch.device) -> np.ndarray:
    """Full spectra ``(G, D, N)`` (mean over ``n_trajectories`` random starts) of every ``g J``.

    Each gain is its own batch: the engine's adaptive QR interval is set by the batch's widest
    spectrum (a QR after every step at g = 3, every 4–5 steps at g ≤ 1.5), and the QR dominates
    the cost.
    """
    m = cfg["n_trajectories"]
    sigma = _rows(drives, m, device)
    # Undriven runs draw no noise (a draw per step is a measurable cost at small N).
    noise = torch_generator(base_seed, *keys, "drive", device=device) if np.any(drives > 0) else None
    start = torch_generator(base_seed, *keys, "initial")
    basis_rng = numpy_generator(base_seed, *keys, "basis")
    spectra = []
    for g in gains:
        step, tangent_step = _batched_map(g * J[None], sigma, noise)
        h = _settled_states(step, sigma.shape[0], J.shape[0], cfg["n_transient"], start, device)
        with torch.no_grad():
            result = lyapunov_spectrum_tangent(tangent_step, h, n_steps=cfg["n_steps"], n_transient=cfg["n_align"],
                                               rng=basis_rng)
        spectra.append(result.exponents.reshape(drives.size, m, -1).mean(axis=1))
    return np.stack(spectra)


def _lambda1_and_gradients(J: torch.Tensor, gains: np.ndarray, drives: np.ndarray, cfg: dict[str, Any], *,
                           base_seed: int, keys: tuple, device: torch.device) -> dict[str, np.ndarray]:
    """λ1 by QR and the BPTT gradient norms on the same trajectories, for every ``g J`` and drive.

    ``M`` random starts per network are run onto the attractor; from each settled state the QR
    run (one tangent vector, ``n_align`` + ``n_steps`` steps) and a chain of BPTT windows of
    ``n_lags`` steps covering the same stretch (each window starts where the previous one ended)
    follow the same trajectory: the same map and the same drive realisation (one generator seed,
    the same draws in the same order). Both estimators thus average over the same part of the
    same attractor, which matters where a finite network has coexisting attractors.

    Returns
    -------
    dict
        ``lambda1`` ``(G, D, M)``; ``log_norms`` ``(G, D, M·n_windows, n_lags + 1)``;
        ``mean_slope`` ``(G, D)``, E(1 − h²) along the windows.
    """
    lcfg, gcfg = cfg["lyapunov"], cfg["gradient"]
    m, n, n_lags = lcfg["n_trajectories"], J.shape[0], gcfg["n_lags"]
    n_windows = max((lcfg["n_align"] + lcfg["n_steps"]) // n_lags, 1)
    weights = torch.from_numpy(gains).to(device)[:, None, None] * J
    sigma = _rows(drives, m, device)

    def drive_generator() -> torch.Generator:
        return torch_generator(base_seed, *keys, "drive", device=device)

    step, _ = _batched_map(weights, sigma, torch_generator(base_seed, *keys, "transient drive", device=device))
    settled = _settled_states(step, gains.size * sigma.shape[0], n, lcfg["n_transient"],
                              torch_generator(base_seed, *keys, "initial"), device)
    _, tangent_step = _batched_map(weights, sigma, drive_generator())
    with torch.no_grad():
        lam1 = lyapunov_spectrum_tangent(tangent_step, settled, n_steps=lcfg["n_steps"], n_transient=lcfg["n_align"],
                                         n_exponents=1, rng=numpy_generator(base_seed, *keys, "basis")).exponents

    noise = drive_generator()
    transposed = weights.transpose(-1, -2)
    row_sigma = sigma.repeat(gains.size, 1)  # (G·D·M, 1)

    def drive_step(x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh((h.view(gains.size, -1, n) @ transposed).view(h.shape) + x)

    readout = torch.full((n,), 1.0 / math.sqrt(n), dtype=torch.float64, device=device)
    h, log_norms = settled, []
    slope_sum = torch.zeros(settled.shape[0], dtype=torch.float64, device=device)
    for _ in range(n_windows):
        inputs = [row_sigma * torch.randn(h.shape, dtype=h.dtype, generator=noise, device=device)
                  for _ in range(n_lags)]
        log_norms.append(bptt_log_gradient_norms(drive_step, h, inputs, readout))
        with torch.no_grad():
            for x_t in inputs:
                h = drive_step(x_t, h)
                slope_sum += (1.0 - h * h).mean(dim=-1)
    shape = (gains.size, drives.size, m)
    log_norms = np.stack(log_norms, axis=-2).reshape(shape[:2] + (m * n_windows, n_lags + 1))
    mean_slope = (slope_sum / (n_windows * n_lags)).cpu().numpy().reshape(shape).mean(axis=-1)
    return {"lambda1": lam1[:, 0].reshape(shape), "log_norms": log_norms, "mean_slope": mean_slope}


def network_sweep(n: int, seed: int, cfg: dict[str, Any], base_seed: int,
                  device: str | torch.device = "cpu") -> xr.Dataset:
    """Everything measured on the random networks of one size and one seed (the sweep rule).

    Parameters
    ----------
    n
        Network size ``N``.
    seed
        Replicate index (wildcard); with ``base_seed`` it fixes ``J``, the initial states, the
        drive realisations and the initial tangent bases.
    cfg
        The ``chaos`` config section (``g``, ``drive``, ``lyapunov``, ``spectrum``, ``gradient``).
    base_seed
        The config's ``seed``.
    device
        Where the tensors live (float64 throughout).

    Returns
    -------
    xarray.Dataset
        Dims ``g`` (fine gains), ``drive``, ``trajectory``, ``window``, ``lag``, ``g_spectrum``,
        ``exponent``: λ1 per trajectory, the full spectra, D_KY, entropy, BPTT log-norms and growth
        rates, ρ(W), E(1 − h²) and the heuristic rate log(ρ(W) E|f′|).
    """
    device = torch.device(device)
    keys = ("chaos", n, seed)
    J = coupling_matrix(n, torch_generator(base_seed, *keys, "coupling")).to(device)
    rho_j = float(torch.linalg.eigvals(J.cpu()).abs().max())
    gains = np.asarray(cfg["g"], dtype=np.float64)
    drives = np.asarray(cfg["drive"], dtype=np.float64)
    g_spec = np.asarray(cfg["spectrum"]["g"], dtype=np.float64)

    paired = _lambda1_and_gradients(J, gains, drives, cfg, base_seed=base_seed, keys=keys + ("lambda1",),
                                    device=device)
    lam1, log_norms, mean_slope = paired["lambda1"], paired["log_norms"], paired["mean_slope"]
    spectra = _full_spectra(J, g_spec, drives, cfg["spectrum"], base_seed=base_seed, keys=keys + ("spectrum",),
                            device=device)
    rate, rate_error = gradient_growth_rate(log_norms, min_lag=cfg["gradient"]["min_lag"])
    rho_w = gains * rho_j

    per_step = "1/step"
    return xr.Dataset(
        {
            "lambda1": (("g", "drive", "trajectory"), lam1,
                        {"long_name": "largest Lyapunov exponent (QR, one tangent vector)", "units": per_step}),
            "spectrum": (("g_spectrum", "drive", "exponent"), spectra,
                         {"long_name": "Lyapunov spectrum (full QR, mean over trajectories)", "units": per_step}),
            "kaplan_yorke": (("g_spectrum", "drive"), kaplan_yorke_dimension(spectra),
                             {"long_name": "Kaplan-Yorke dimension D_KY", "units": "1"}),
            "entropy": (("g_spectrum", "drive"), np.where(spectra > 0, spectra, 0.0).sum(axis=-1),
                        {"long_name": "sum of the positive exponents (KS entropy, Pesin)", "units": "nat/step"}),
            "log_gradient_norm": (("g", "drive", "window", "lag"), log_norms,
                                  {"long_name": "log ||dL/dh_{T-lag}|| by BPTT, L = c . h_T, |c| = 1",
                                   "units": "1"}),
            "gradient_rate": (("g", "drive"), rate,
                              {"long_name": "growth rate per step of the BPTT gradient norm (mean slope)",
                               "units": per_step}),
            "gradient_rate_error": (("g", "drive"), rate_error,
                                    {"long_name": "standard error of the gradient growth rate over windows",
                                     "units": per_step}),
            "rho_w": (("g",), rho_w, {"long_name": "spectral radius of W = g J", "units": "1"}),
            "mean_slope": (("g", "drive"), mean_slope,
                           {"long_name": "E|f'(x)| = E(1 - h^2) on the attractor", "units": "1"}),
            "heuristic_rate": (("g", "drive"), np.log(rho_w[:, None] * mean_slope),
                               {"long_name": "article's heuristic log(rho(W) E|f'|)", "units": per_step}),
        },
        coords={
            "g": ("g", gains, {"long_name": "gain g (W ~ N(0, g^2/N))", "units": "1"}),
            "g_spectrum": ("g_spectrum", g_spec, {"long_name": "gain of the full-spectrum runs", "units": "1"}),
            "drive": ("drive", drives, {"long_name": "input noise standard deviation sigma", "units": "1"}),
            "trajectory": ("trajectory", np.arange(cfg["lyapunov"]["n_trajectories"]),
                           {"long_name": "trajectory index (random start)", "units": "1"}),
            "window": ("window", np.arange(log_norms.shape[2]),
                       {"long_name": "BPTT window (trajectory-major, consecutive along each trajectory)",
                        "units": "1"}),
            "lag": ("lag", np.arange(cfg["gradient"]["n_lags"] + 1), {"long_name": "lag T - k", "units": "step"}),
            "exponent": ("exponent", np.arange(1, n + 1), {"long_name": "exponent index i", "units": "1"}),
        },
        attrs={"title": f"Random tanh networks, N = {n}, seed {seed}", "N": n, "seed_index": seed,
               "rho_J": rho_j, "min_lag": cfg["gradient"]["min_lag"],
               "derived_seed": derive_seed(base_seed, *keys)},
    )


# --- analysis across sizes and seeds ---------------------------------------------------------------

def first_upward_crossing(g: np.ndarray, lam: np.ndarray, tol: float) -> float:
    """``g`` where ``lam(g)`` first rises from below ``−tol`` to zero.

    The bracket is the first grid interval ``[g_i, g_{i+1}]`` with ``lam(g_i) < −tol ≤ lam(g_{i+1})``
    (within ``tol`` of zero a finite-time exponent is not distinguishable from zero: a zero
    exponent converges like 1/T). Inside it the zero is found on the secant through the last two
    points below ``−tol`` (the stable branch approaching the crossing is smooth, e.g.
    λ1 = log(g ρ(J)) at the stable origin, while ``lam(g_{i+1})`` may already sit on a λ1 = 0
    plateau that a plain interpolation would mistake for the crossing), clipped to the bracket.
    With a single point below, the chord of the bracket is used. NaN when there is no such
    crossing on the grid.
    """
    below = lam < -tol
    for i in range(g.size - 1):
        if below[i] and not below[i + 1]:
            if i > 0 and below[i - 1] and lam[i] > lam[i - 1]:
                zero = g[i] - lam[i] * (g[i] - g[i - 1]) / (lam[i] - lam[i - 1])
            else:
                zero = g[i] - lam[i] * (g[i + 1] - g[i]) / (lam[i + 1] - lam[i])
            return float(np.clip(zero, g[i], g[i + 1]))
    return math.nan


def chaos_onset(g: np.ndarray, lam: np.ndarray, tol: float) -> float:
    """``g`` from which λ1 stays above ``+tol`` (the onset of chaos), interpolated at level ``tol``.

    NaN when λ1 is not above ``tol`` at the largest gain.
    """
    above = lam > tol
    if not above[-1]:
        return math.nan
    i = g.size - 1
    while i > 0 and above[i - 1]:
        i -= 1
    if i == 0:
        return float(g[0])
    frac = (tol - lam[i - 1]) / (lam[i] - lam[i - 1])
    return float(g[i - 1] + np.clip(frac, 0.0, 1.0) * (g[i] - g[i - 1]))


def mean_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Mean of the finite values and the half-width of its Student-t confidence interval."""
    values = values[np.isfinite(values)]
    if values.size < 2:
        return (float(values.mean()) if values.size else math.nan), math.nan
    half = scipy.stats.t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    return float(values.mean()), float(half)


def spectrum_on_fractions(spectrum: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Spectra ``(..., N)`` at the index fractions ``x`` (linear interpolation in ``x_i = (i − ½)/N``)."""
    n = spectrum.shape[-1]
    x = (np.arange(1, n + 1) - 0.5) / n
    flat = spectrum.reshape(-1, n)
    return np.stack([np.interp(fractions, x, row) for row in flat]).reshape(spectrum.shape[:-1] + fractions.shape)


def summarise(sweeps: list[xr.Dataset], cfg: dict[str, Any]) -> xr.Dataset:
    """Combine the per-(N, seed) sweeps: crossings, spectra on ``i/N``, slope agreement (analysis rule).

    Parameters
    ----------
    sweeps
        Datasets of :func:`network_sweep`, every size × seed of the config.
    cfg
        The ``chaos`` config section (``analysis`` keys used here).

    Returns
    -------
    xarray.Dataset
        Dims ``N``, ``seed``, ``g``, ``drive``, ``g_spectrum``, ``fraction``.
    """
    acfg = cfg["analysis"]
    sizes = sorted({int(s.attrs["N"]) for s in sweeps})
    seeds = sorted({int(s.attrs["seed_index"]) for s in sweeps})
    by_key = {(int(s.attrs["N"]), int(s.attrs["seed_index"])): s for s in sweeps}
    first = sweeps[0]
    gains, drives, g_spec = first["g"].values, first["drive"].values, first["g_spectrum"].values
    fractions = (np.arange(1, sizes[0] + 1) - 0.5) / sizes[0]

    def stack(fn: Callable[[xr.Dataset], np.ndarray]) -> np.ndarray:
        return np.stack([np.stack([fn(by_key[(n, s)]) for s in seeds]) for n in sizes])

    lam1 = stack(lambda d: d["lambda1"].mean("trajectory").values)  # (Nn, S, G, D)
    lam1_err = stack(lambda d: (d["lambda1"].std("trajectory", ddof=1)
                                / math.sqrt(d.sizes["trajectory"])).values)
    rate = stack(lambda d: d["gradient_rate"].values)
    rate_err = stack(lambda d: d["gradient_rate_error"].values)
    heuristic = stack(lambda d: d["heuristic_rate"].values)
    rho_j = stack(lambda d: np.asarray(d.attrs["rho_J"]))
    spectra = stack(lambda d: spectrum_on_fractions(d["spectrum"].values, fractions))  # (Nn, S, Gs, D, X)
    dky = stack(lambda d: d["kaplan_yorke"].values)
    entropy = stack(lambda d: d["entropy"].values)
    mean_log_norm = stack(lambda d: d["log_gradient_norm"].mean("window").values)  # (Nn, S, G, D, L)

    tol0 = acfg["zero_exponent_tol"]
    g_star = np.full(lam1.shape[:2] + (drives.size,), np.nan)
    g_chaos = np.full_like(g_star, np.nan)
    for idx in np.ndindex(g_star.shape):
        curve = lam1[idx[0], idx[1], :, idx[2]]
        g_star[idx] = first_upward_crossing(gains, curve, tol0)
        g_chaos[idx] = chaos_onset(gains, curve, tol0)
    allowed = np.maximum(SLOPE_REL_TOL * np.abs(lam1), SLOPE_ABS_TOL)

    size_attrs = {"long_name": "network size N", "units": "1"}
    dims4 = ("N", "seed", "g", "drive")
    return xr.Dataset(
        {
            "lambda1": (dims4, lam1, {"long_name": "largest Lyapunov exponent, mean over trajectories",
                                      "units": "1/step"}),
            "lambda1_error": (dims4, lam1_err, {"long_name": "standard error of lambda1 over trajectories",
                                                "units": "1/step"}),
            "gradient_rate": (dims4, rate, {"long_name": "BPTT gradient growth rate per step", "units": "1/step"}),
            "gradient_rate_error": (dims4, rate_err, {"long_name": "standard error of the gradient growth rate",
                                                      "units": "1/step"}),
            "slope_error": (dims4, np.abs(rate - lam1) / allowed,
                            {"long_name": "|growth rate - lambda1| / max(0.05 |lambda1|, 0.01)", "units": "1"}),
            "heuristic_rate": (dims4, heuristic, {"long_name": "log(rho(W) E|f'|)", "units": "1/step"}),
            "mean_log_gradient_norm": (dims4 + ("lag",), mean_log_norm,
                                       {"long_name": "mean over windows of log ||dL/dh_{T-lag}||", "units": "1"}),
            "rho_J": (("N", "seed"), rho_j, {"long_name": "spectral radius of J (W = g J)", "units": "1"}),
            "g_star": (("N", "seed", "drive"), g_star,
                       {"long_name": "g where lambda1 first leaves negative values", "units": "1"}),
            "g_chaos": (("N", "seed", "drive"), g_chaos,
                        {"long_name": "g from which lambda1 stays positive (onset of chaos)", "units": "1"}),
            "spectrum": (("N", "seed", "g_spectrum", "drive", "fraction"), spectra,
                         {"long_name": "Lyapunov spectrum interpolated at i/N", "units": "1/step"}),
            "kaplan_yorke": (("N", "seed", "g_spectrum", "drive"), dky,
                             {"long_name": "Kaplan-Yorke dimension", "units": "1"}),
            "kaplan_yorke_fraction": (("N", "seed", "g_spectrum", "drive"),
                                      dky / np.asarray(sizes, dtype=float)[:, None, None, None],
                                      {"long_name": "D_KY / N", "units": "1"}),
            "entropy": (("N", "seed", "g_spectrum", "drive"), entropy,
                        {"long_name": "sum of positive exponents", "units": "nat/step"}),
        },
        coords={
            "N": ("N", np.asarray(sizes), size_attrs),
            "seed": ("seed", np.asarray(seeds), {"long_name": "replicate index", "units": "1"}),
            "g": ("g", gains, first["g"].attrs),
            "drive": ("drive", drives, first["drive"].attrs),
            "g_spectrum": ("g_spectrum", g_spec, first["g_spectrum"].attrs),
            "lag": ("lag", first["lag"].values, first["lag"].attrs),
            "fraction": ("fraction", fractions, {"long_name": "index fraction i/N", "units": "1"}),
        },
        attrs={"title": "Random tanh networks: edge of chaos, spectra and BPTT gradients",
               "min_lag": int(first.attrs["min_lag"]), **{k: v for k, v in acfg.items()}},
    )


def _label(n: int, drive: float) -> str:
    return f"N={n}_drive={drive:g}"


def claims(summary: xr.Dataset) -> list[Claim]:
    """The ``lyapunov-gradient`` claims from :func:`summarise`'s dataset."""
    a = summary.attrs
    out: list[Claim] = []
    sizes, drives = summary["N"].values, summary["drive"].values
    for drive in drives:
        for name, var, what in (("g_star", "g_star", "lambda1 leaves negative values"),
                                ("g_chaos", "g_chaos", "lambda1 becomes positive (onset of chaos)")):
            means = {}
            for n in sizes:
                values = summary[var].sel(N=n, drive=drive).values
                mean, half = mean_interval(values)
                means[n] = mean
                out.append(claim_close(
                    f"lyapunov-gradient/{name}_{_label(n, drive)}", f"gain g where {what}, mean over seeds",
                    measured=mean, expected=1.0, tolerance=a["g_star_tol"],
                    note=f"{CONFIDENCE:.0%} CI ± {half:.3g} over {np.isfinite(values).sum()} seeds "
                         f"(per seed {np.array2string(values, precision=3)}); zero band ±{a['zero_exponent_tol']:g}; "
                         f"mean 1/rho(J) = {np.mean(1 / summary['rho_J'].sel(N=n).values):.3f}"
                         + (FINITE_SIZE_NOTE if name == "g_chaos" else "") + (DRIVE_NOTE if drive > 0 else "")))
            if len(sizes) > 1:
                gap_small, gap_large = abs(means[sizes[0]] - 1.0), abs(means[sizes[-1]] - 1.0)
                out.append(claim_holds(
                    f"lyapunov-gradient/{name}_approaches_1_drive={drive:g}",
                    f"|{name} - 1| at the largest N is below its value at the smallest N",
                    measured=gap_large, expected=0.0, passed=bool(gap_large < gap_small),
                    note=f"|{name} - 1| = {gap_small:.3g} at N = {sizes[0]}, {gap_large:.3g} at N = {sizes[-1]}"))

    undriven = summary.sel(drive=0.0) if 0.0 in drives else None
    if undriven is not None:
        linear = np.log(summary["g"] * undriven["rho_J"])
        stable = summary["g"] * undriven["rho_J"] < a["fixed_point_margin"]
        error = float(np.abs(undriven["lambda1"] - linear).where(stable).max())
        out.append(claim_close(
            "lyapunov-gradient/lambda1_at_stable_origin",
            "max |lambda1 - log(g rho(J))| where the origin is stable (g rho(J) < margin), no drive",
            measured=error, expected=0.0, tolerance=a["fixed_point_tol"], unit="1/step",
            note=f"{int(stable.sum())} (N, seed, g) points with g rho(J) < {a['fixed_point_margin']:g}"))

    for n in sizes:
        err = summary["slope_error"].sel(N=n)
        worst = err.where(err == err.max(), drop=True)
        where = {k: float(worst[k][0]) for k in ("seed", "g", "drive")} if worst.size else {}
        out.append(claim_close(
            f"lyapunov-gradient/gradient_rate_equals_lambda1_N={n}",
            "max over seeds, g and drive of |BPTT growth rate - lambda1| / max(0.05 |lambda1|, 0.01)",
            measured=float(err.max()), expected=0.0, tolerance=1.0,
            note=f"worst at {where}; fit on lags >= {a['min_lag']}; {summary.sizes['g']} gains x "
                 f"{summary.sizes['drive']} drives x {summary.sizes['seed']} seeds"))

    x_max = a["invariance_max_fraction"]
    upper = summary["spectrum"].where(summary["fraction"] <= x_max, drop=True)
    mean = upper.mean("seed")
    error = upper.std("seed", ddof=1) / math.sqrt(summary.sizes["seed"])
    for drive in drives:
        excess, details = -math.inf, []
        for small, large in zip(sizes[:-1], sizes[1:]):
            pair = {"drive": drive}
            diff = np.abs(mean.sel(N=small, **pair) - mean.sel(N=large, **pair))
            noise = np.hypot(error.sel(N=small, **pair), error.sel(N=large, **pair))
            pair_excess = float((diff - N_STANDARD_ERRORS * noise).max())
            excess = max(excess, pair_excess)
            details.append(f"N {small} vs {large}: max |diff| {float(diff.max()):.3g}, excess {pair_excess:.3g}")
        measured = excess if len(sizes) > 1 else math.nan
        out.append(claim_holds(
            f"lyapunov-gradient/size_invariance_drive={drive:g}",
            f"max over g and i/N <= {x_max:g} of |mean spectrum(N) - mean spectrum(next N)| beyond "
            f"{N_STANDARD_ERRORS:g} standard errors of the seed means (passes if <= tolerance)",
            measured=measured, expected=0.0, tolerance=a["invariance_tol"], passed=measured <= a["invariance_tol"],
            unit="1/step",
            note="; ".join(details) + f"; g = {np.array2string(summary['g_spectrum'].values)}"))
        frac = summary["kaplan_yorke_fraction"].sel(drive=drive).mean("seed")
        out.append(claim_holds(
            f"lyapunov-gradient/dky_fraction_drive={drive:g}",
            "max over N and g of the seed-mean D_KY / N (D_KY << N)",
            measured=float(frac.max()), expected=a["dky_fraction_bound"],
            passed=bool(frac.max() <= a["dky_fraction_bound"]),
            note="bound: D_KY / N <= expected; per N at the largest g: " + ", ".join(
                f"{n}: {float(frac.sel(N=n).isel(g_spectrum=-1)):.3f}" for n in sizes)))
    return out
