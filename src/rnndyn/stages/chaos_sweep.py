"""The ``chaos_sweep`` job: one random tanh network (one size ``N``, one replicate) over the g × drive sweep.

The network and its measurements are :mod:`rnndyn.systems.random_rnn`'s; this module draws the
network's coupling, runs the λ1 / BPTT and full-spectrum measurements and lays them out as the
sweep store that :mod:`rnndyn.stages.chaos` summarises. Torch is imported here, not by the
analysis job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import xarray as xr

from rnndyn.analysis.gradients import gradient_growth_rate
from rnndyn.analysis.lyapunov import kaplan_yorke_dimension
from rnndyn.systems.random_rnn import coupling_matrix, full_spectra, lambda1_and_gradients

if TYPE_CHECKING:
    from rnndyn.jobs import Job
    from rnndyn.seeding import Streams


def sweep_job(job: Job) -> None:
    """Job ``chaos_sweep``: λ1, full spectra and BPTT gradient norms of network ``N{n}/rep{replicate}``."""
    n, replicate = int(job.wildcards["n"]), int(job.wildcards["replicate"])
    sweep = network_sweep(n, replicate, job.config, job.streams, device=job.device)
    for g in sweep["g"].values:
        row = sweep.sel(g=g)
        job.log.info("g = %.3g: lambda1 %s, gradient rate %s", g,
                     row["lambda1"].mean("trajectory").values.round(4), row["gradient_rate"].values.round(4))
    job.write(sweep)


def network_sweep(n: int, replicate: int, cfg: dict[str, Any], streams: Streams,
                  device: str | torch.device = "cpu") -> xr.Dataset:
    """Everything measured on the random network of one size and one replicate.

    Parameters
    ----------
    n
        Network size ``N``.
    replicate
        Replicate index, recorded in the store's ``identity``.
    cfg
        The sweep settings: ``g``, ``drive``, ``lyapunov``, ``spectrum``, ``gradient``.
    streams
        The network's random streams (the job's: keyed ``("chaos", N, replicate, ...)``): ``"coupling"``
        draws ``J``; ``"lambda1"`` and ``"spectrum"`` the initial states, drives and tangent bases of
        the two measurements.
    device
        Where the tensors live (float64 throughout).

    Returns
    -------
    xarray.Dataset
        Dims ``g`` (fine gains), ``drive``, ``trajectory``, ``window``, ``lag``, ``g_spectrum``,
        ``exponent``: λ1 per trajectory, the full spectra, D_KY, entropy, BPTT log-norms and growth
        rates, ρ(W), E(1 − h²) and the heuristic rate log(ρ(W) E|f′|). Attributes ``identity``
        (``stage``, ``n``, ``replicate``), ``rho_J`` and ``min_lag``.
    """
    device = torch.device(device)
    J = coupling_matrix(n, streams.torch("coupling")).to(device)
    rho_j = float(torch.linalg.eigvals(J.cpu()).abs().max())
    gains = np.asarray(cfg["g"], dtype=np.float64)
    drives = np.asarray(cfg["drive"], dtype=np.float64)
    g_spec = np.asarray(cfg["spectrum"]["g"], dtype=np.float64)

    paired = lambda1_and_gradients(J, gains, drives, cfg, streams.child("lambda1"), device)
    lam1, log_norms, mean_slope = paired["lambda1"], paired["log_norms"], paired["mean_slope"]
    spectra = full_spectra(J, g_spec, drives, cfg["spectrum"], streams.child("spectrum"), device)
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
        attrs={"title": f"Random tanh network, N = {n}, replicate {replicate}",
               "identity": {"stage": "chaos", "n": n, "replicate": replicate},
               "rho_J": rho_j, "min_lag": cfg["gradient"]["min_lag"]},
    )
