"""Random tanh networks ``h_{t+1} = tanh(g J h_t + u_t)``, ``J ~ N(0, 1/N)``, and their Lyapunov exponents.

The coupling ``J`` has i.i.d. entries of variance ``1/N``, so that ``ρ(J) → 1`` as ``N → ∞``
(circular law) and ``W = g J`` has spectral radius near ``g``. Undriven (``u = 0``), ``h = 0`` is a
fixed point with Jacobian ``W``, stable while ``g ρ(J) < 1``; above, the large network is chaotic
(Sompolinsky, Crisanti & Sommers 1988, PRL 61, 259, for the continuous-time network). The drive
``u_t ~ N(0, σ² I)`` is white noise.

Everything is float64 (except :func:`lambda1_on_gains`, which may run in float32) and batched over
a family of gains (one ``J``, scaled by each ``g``, so that
a network's sweep is a smooth family) and over rows (drive × trajectory): the largest exponent by
QR of one tangent vector with the BPTT gradient norms on the same trajectories
(:func:`lambda1_and_gradients`), the full spectrum by QR of ``N`` vectors (:func:`full_spectra`), and
λ1 alone on many gains at once for the onset of chaos (:func:`lambda1_on_gains`).
Every random draw comes from the caller's :class:`rnndyn.seeding.Streams`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch

from rnndyn.analysis.gradients import bptt_log_gradient_norms
from rnndyn.analysis.lyapunov import lyapunov_spectrum_tangent

if TYPE_CHECKING:
    from rnndyn.seeding import Streams


def _standard_normal(n: int, generator: torch.Generator) -> torch.Tensor:
    """``(n, n)`` float64 i.i.d. ``N(0, 1)``: the one draw of every Gaussian recurrent weight."""
    return torch.randn(n, n, dtype=torch.float64, generator=generator)


def coupling_matrix(n: int, generator: torch.Generator) -> torch.Tensor:
    """``J`` ``(n, n)`` float64 with i.i.d. entries ``N(0, 1/n)``; ``W = g J`` has ρ(W) → g."""
    return _standard_normal(n, generator) / math.sqrt(n)


def gaussian_weight(n: int, g: float, generator: torch.Generator) -> torch.Tensor:
    """``W ~ N(0, g²/n)`` ``(n, n)`` float64, the initial recurrent weight of the model families.

    The same draw as :func:`coupling_matrix` (``g`` times it up to the rounding of the scale: the
    two keep their own order of operations so that neither the chaos stage's nor the trained
    networks' numbers change). Spectral radius ~ ``g``; the tanh network's edge of chaos is ``g = 1``.
    """
    return _standard_normal(n, generator) * (g / n**0.5)


def tanh_map(weights: torch.Tensor, sigma: torch.Tensor, noise: torch.Generator | None
             ) -> tuple[Callable[[torch.Tensor], torch.Tensor],
                        Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]]:
    """Step ``h ← tanh(W_g h + σ ξ)`` and its tangent map on a batch laid out as ``(G, R, N)``.

    ``weights`` is ``(G, N, N)``; ``sigma`` ``(R, 1)`` is the drive of each of the ``R`` rows that
    share a network (rows: drive × trajectory); ``noise`` draws ``ξ`` (``None``: undriven, nothing
    drawn). States come in flat ``(G·R, N)`` as the Lyapunov engine wants them; the product with
    ``W`` is one batched matrix product per ``g``.

    Returns
    -------
    step, tangent_step
        ``step(h) -> h_next`` and ``tangent_step(h, basis) -> (h_next, Jacobian · basis)``
        (``basis`` ``(G·R, N, k)``), drawing the same noise.
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


def drive_rows(drives: np.ndarray, n_trajectories: int, device: torch.device) -> torch.Tensor:
    """Drive σ of each row ``(D·M, 1)``, rows ordered (drive, trajectory)."""
    return torch.from_numpy(np.repeat(drives, n_trajectories)[:, None]).to(device)


def settled_states(step: Callable[[torch.Tensor], torch.Tensor], n_rows: int, n: int, n_transient: int,
                   generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """``(n_rows, N)`` states after ``n_transient`` steps from starts uniform in ``[-1, 1]^N``.

    The starts are drawn from ``generator`` on the CPU (the same numbers on every device).
    """
    h = (2.0 * torch.rand(n_rows, n, dtype=torch.float64, generator=generator) - 1.0).to(device)
    with torch.no_grad():
        for _ in range(n_transient):
            h = step(h)
    return h


def full_spectra(J: torch.Tensor, gains: np.ndarray, drives: np.ndarray, cfg: dict[str, Any], streams: Streams,
                 device: torch.device) -> np.ndarray:
    """Full spectra ``(G, D, N)`` (mean over ``n_trajectories`` random starts) of every ``g J``.

    Parameters
    ----------
    J
        Coupling ``(N, N)`` float64 on ``device``.
    gains, drives
        ``g`` ``(G,)`` and σ ``(D,)``.
    cfg
        ``n_trajectories``, ``n_transient`` (state steps discarded), ``n_align`` (tangent steps
        discarded), ``n_steps`` (steps averaged).
    streams
        Draws ``"initial"`` (starts), ``"basis"`` (initial tangent bases) and, if a drive is
        positive, ``"drive"`` (the noise; undriven runs draw none).

    Each gain is its own batch: the engine's adaptive QR interval is set by the batch's widest
    spectrum (a QR after every step at g = 3, every 4–5 steps at g ≤ 1.5), and the QR dominates
    the cost.
    """
    m = cfg["n_trajectories"]
    sigma = drive_rows(drives, m, device)
    # Undriven runs draw no noise (a draw per step is a measurable cost at small N).
    noise = streams.torch("drive", device=device) if np.any(drives > 0) else None
    start = streams.torch("initial")
    basis_rng = streams.numpy("basis")
    spectra = []
    for g in gains:
        step, tangent_step = tanh_map(g * J[None], sigma, noise)
        h = settled_states(step, sigma.shape[0], J.shape[0], cfg["n_transient"], start, device)
        with torch.no_grad():
            result = lyapunov_spectrum_tangent(tangent_step, h, n_steps=cfg["n_steps"], n_transient=cfg["n_align"],
                                               rng=basis_rng)
        spectra.append(result.exponents.reshape(drives.size, m, -1).mean(axis=1))
    return np.stack(spectra)


def lambda1_and_gradients(J: torch.Tensor, gains: np.ndarray, drives: np.ndarray, cfg: dict[str, Any],
                          streams: Streams, device: torch.device) -> dict[str, np.ndarray]:
    """λ1 by QR and the BPTT gradient norms on the same trajectories, for every ``g J`` and drive.

    ``M`` random starts per network are run onto the attractor; from each settled state the QR
    run (one tangent vector, ``n_align`` + ``n_steps`` steps) and a chain of BPTT windows of
    ``n_lags`` steps covering the same stretch (each window starts where the previous one ended)
    follow the same trajectory: the same map and the same drive realisation (one stream, the same
    draws in the same order). Both estimators thus average over the same part of the same
    attractor, which matters where a finite network has coexisting attractors. The loss of each
    window is ``c · h_T`` with ``c = (1, …, 1)/√N``.

    Parameters
    ----------
    cfg
        ``lyapunov`` (``n_trajectories`` M, ``n_transient``, ``n_align``, ``n_steps``) and
        ``gradient`` (``n_lags``).
    streams
        Draws ``"initial"``, ``"transient drive"``, ``"drive"`` (twice: the QR run and the BPTT
        windows see the same realisation) and ``"basis"``.

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
    sigma = drive_rows(drives, m, device)

    step, _ = tanh_map(weights, sigma, streams.torch("transient drive", device=device))
    settled = settled_states(step, gains.size * sigma.shape[0], n, lcfg["n_transient"], streams.torch("initial"),
                             device)
    _, tangent_step = tanh_map(weights, sigma, streams.torch("drive", device=device))
    with torch.no_grad():
        lam1 = lyapunov_spectrum_tangent(tangent_step, settled, n_steps=lcfg["n_steps"], n_transient=lcfg["n_align"],
                                         n_exponents=1, rng=streams.numpy("basis")).exponents

    noise = streams.torch("drive", device=device)
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


def lambda1_on_gains(J: torch.Tensor, gains: np.ndarray, sigmas: np.ndarray, cfg: dict[str, Any],
                     streams: Streams, device: torch.device, dtype: torch.dtype = torch.float64) -> np.ndarray:
    """λ1 of ``h ← tanh(g_c J h + σ_c ξ)`` for many columns ``c`` (gain, drive) of one coupling ``J``.

    All columns share ``J``, so one step is a single product ``J @ [H, V]`` of the ``(N, N)``
    coupling with the states ``H`` and tangent vectors ``V`` ``(N, C)`` of every column, scaled by
    each column's gain afterwards (``g J h = g (J h)``): the coupling is read once per step for
    every gain, which makes a fine gain grid at ``N = 1024`` cost little more than one gain. One
    tangent vector per column, renormalised every step (Benettin et al. 1980); its log growth is
    accumulated in float64 whatever ``dtype`` the dynamics run in (float32 halves the cost of the
    product; its rounding, ~6e-8 relative per step, is four orders below the 1e-3 resolution λ1 is
    needed at, and acts on the chaotic trajectory like a negligible extra noise).

    Parameters
    ----------
    J
        Coupling ``(N, N)`` on ``device`` (cast to ``dtype``).
    gains, sigmas
        Gain and drive σ of each column ``(C,)``.
    cfg
        ``n_transient`` (state steps from a start uniform in ``[-1, 1]^N``), ``n_align`` (tangent
        steps discarded), ``n_steps`` (steps averaged).
    streams
        Draws ``"initial"`` (starts), ``"basis"`` (tangent starts) and ``"drive"`` (the noise,
        only if some σ > 0), all in float64 and then cast, so both precisions see the same draws.
    device, dtype
        Where and in which precision the dynamics run.

    Returns
    -------
    numpy.ndarray
        λ1 per column ``(C,)``, nats per step.
    """
    n, n_cols = J.shape[0], len(gains)
    J = J.to(device=device, dtype=dtype)
    g = torch.as_tensor(gains, dtype=dtype, device=device)
    sigma = torch.as_tensor(sigmas, dtype=dtype, device=device)
    noise = streams.torch("drive", device=device) if np.any(np.asarray(sigmas) > 0) else None

    def drive() -> torch.Tensor | float:
        if noise is None:
            return 0.0
        return sigma * torch.randn(n, n_cols, dtype=torch.float64, generator=noise, device=device).to(dtype)

    h = (2.0 * torch.rand(n, n_cols, dtype=torch.float64, generator=streams.torch("initial")) - 1.0).to(device, dtype)
    v = torch.randn(n, n_cols, dtype=torch.float64, generator=streams.torch("basis")).to(device, dtype)
    v = v / v.norm(dim=0)
    growth = torch.zeros(n_cols, dtype=torch.float64, device=device)
    with torch.no_grad():
        for _ in range(cfg["n_transient"]):
            h = torch.tanh((J @ h) * g + drive())
        for t in range(cfg["n_align"] + cfg["n_steps"]):
            pushed = J @ torch.cat([h, v], dim=1)
            h = torch.tanh(pushed[:, :n_cols] * g + drive())
            v = (1.0 - h * h) * pushed[:, n_cols:] * g
            norm = v.norm(dim=0)
            v = v / norm
            if t >= cfg["n_align"]:
                growth += norm.double().log()
    return (growth / cfg["n_steps"]).cpu().numpy()
