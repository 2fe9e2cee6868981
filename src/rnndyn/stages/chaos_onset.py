"""The ``chaos_onset`` job: λ1 alone on a fine gain grid, for every replicate network of one size ``N``.

The finite-size sweep of the onset of chaos (:mod:`rnndyn.stages.chaos`): one tangent vector per
(gain, drive) column, every column of a replicate in one batch that reads the coupling ``J`` once
per step (:func:`rnndyn.systems.random_rnn.lambda1_on_gains`), so that ``N`` up to 1,024 (4,096 at
paper scale) stays cheap. A fixed grid rather than a bisection per network: the crossing is located
on the chaotic branch by the same interpolation for every network, a grid needs no sequential
rounds, and every network's whole λ1(g) curve is kept for the figures. Torch is imported here,
not by the analysis job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import xarray as xr

from rnndyn.systems.random_rnn import coupling_matrix, lambda1_on_gains

if TYPE_CHECKING:
    from rnndyn.jobs import Job
    from rnndyn.seeding import Streams


def onset_job(job: Job) -> None:
    """Job ``chaos_onset``: λ1 on the gain grid × drives of every replicate network of size ``N{n}``."""
    n = int(job.wildcards["n"])
    sweep = onset_sweep(n, job.config, job.streams, device=job.device)
    for drive in sweep["drive"].values:
        job.log.info("drive %g: replicate-mean lambda1 %s", drive,
                     sweep["lambda1"].sel(drive=drive).mean("replicate").values.round(4))
    job.write(sweep)


def onset_sweep(n: int, cfg: dict[str, Any], streams: Streams, device: str | torch.device = "cpu") -> xr.Dataset:
    """λ1 ``(replicate, drive, g)`` of ``cfg["replicates"]`` independent networks of size ``n``.

    Parameters
    ----------
    n
        Network size ``N``.
    cfg
        ``replicates``, ``g`` (the grid), ``drive`` (σ values), ``n_trajectories`` (random starts
        per (gain, drive), averaged), ``n_transient``, ``n_align``, ``n_steps``, ``dtype``
        (``"float32"`` or ``"float64"``: the precision of the dynamics).
    streams
        The job's streams; replicate ``r`` draws from ``streams.child("onset", r)``: ``"coupling"``
        (its ``J``), ``"initial"``, ``"basis"`` and ``"drive"``.
    device
        Where the tensors live.
    """
    device = torch.device(device)
    gains = np.asarray(cfg["g"], dtype=np.float64)
    drives = np.asarray(cfg["drive"], dtype=np.float64)
    m = cfg["n_trajectories"]
    # Columns ordered (drive, gain, trajectory).
    col_gain = np.tile(np.repeat(gains, m), drives.size)
    col_sigma = np.repeat(drives, gains.size * m)
    lam1 = []
    for replicate in range(cfg["replicates"]):
        rep = streams.child("onset", replicate)
        J = coupling_matrix(n, rep.torch("coupling")).to(device)
        lam = lambda1_on_gains(J, col_gain, col_sigma, cfg, rep, device, dtype=getattr(torch, cfg["dtype"]))
        lam1.append(lam.reshape(drives.size, gains.size, m).mean(axis=-1))
    return xr.Dataset(
        {"lambda1": (("replicate", "drive", "g"), np.stack(lam1),
                     {"long_name": f"largest Lyapunov exponent (one tangent vector, mean of {m} starts)",
                      "units": "1/step"})},
        coords={
            "replicate": ("replicate", np.arange(cfg["replicates"]),
                          {"long_name": "replicate network (independent J)", "units": "1"}),
            "drive": ("drive", drives, {"long_name": "input noise standard deviation sigma", "units": "1"}),
            "g": ("g", gains, {"long_name": "gain g (W ~ N(0, g^2/N))", "units": "1"}),
        },
        attrs={"title": f"Onset of chaos: lambda1 on a gain grid, N = {n}",
               "identity": {"stage": "chaos", "n": n},
               "n_steps": cfg["n_steps"], "dtype": cfg["dtype"]},
    )
