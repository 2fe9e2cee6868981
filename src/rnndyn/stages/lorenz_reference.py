"""The reference of the Lorenz stage (rule ``lorenz_reference``): Lorenz-63's Lyapunov spectrum from
its equations, by the study's QR engine on the exact RK4 tangent map
(:func:`rnndyn.systems.lorenz.lorenz_reference_spectrum`), checked against Sprott's values by the
claims ``rnn-lyapunov/lorenz_reference_*`` (:func:`rnndyn.stages.lorenz.reference_claims`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from rnndyn.analysis.lyapunov import kaplan_yorke_dimension
from rnndyn.systems.lorenz import lorenz_reference_spectrum

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def reference_job(job: Job) -> None:
    """Rule ``lorenz_reference``: :func:`reference_spectrum`, drawing from the stream ``("reference",)``."""
    reference = reference_spectrum(job.config, job.streams.numpy("reference"))
    job.log.info("spectrum %s, Kaplan-Yorke %.4f", reference["exponents"].mean("trajectory").values,
                 float(reference["kaplan_yorke"]))
    job.write(reference)


def reference_spectrum(cfg: dict[str, Any], rng: np.random.Generator) -> xr.Dataset:
    """The engine's Lorenz spectrum from the equations.

    Parameters
    ----------
    cfg
        ``n_trajectories``, ``t_total``, ``t_transient`` (the ``lorenz.reference`` section) and
        ``dt``, the RK4 step (the data's).
    rng
        Initial states and tangent basis.

    Returns
    -------
    xarray.Dataset
        Exponents per trajectory, their running estimates (mean and standard error over
        trajectories), the spectrum's sum per trajectory and the Kaplan–Yorke dimension of the mean.
    """
    dt = cfg["dt"]
    result = lorenz_reference_spectrum(rng, n_trajectories=cfg["n_trajectories"], t_total=cfg["t_total"],
                                       dt=dt, t_transient=cfg["t_transient"])
    batch = result.exponents.shape[0]
    running_se = result.running.std(axis=1, ddof=1) / np.sqrt(batch) if batch > 1 \
        else np.full(result.running.shape[::2], np.nan)
    per_time = "1/time"
    return xr.Dataset({
        "exponents": (("trajectory", "exponent"), result.exponents,
                      {"long_name": "Lyapunov exponents of Lorenz-63 (RK4 map), descending", "units": per_time}),
        "running_mean": (("record", "exponent"), result.running.mean(axis=1),
                         {"long_name": "running estimate, mean over trajectories", "units": per_time}),
        "running_se": (("record", "exponent"), running_se,
                       {"long_name": "running estimate, standard error over trajectories", "units": per_time}),
        "spectrum_sum": (("trajectory",), result.exponents.sum(axis=1),
                         {"long_name": "sum of the exponents", "units": per_time}),
        "kaplan_yorke": ((), float(kaplan_yorke_dimension(result.exponents.mean(axis=0))),
                         {"long_name": "Kaplan-Yorke dimension of the mean spectrum", "units": "1"}),
    }, coords={
        "exponent": ("exponent", [1, 2, 3], {"long_name": "exponent index", "units": "1"}),
        "record": ("record", np.arange(result.times.size), {"long_name": "running-estimate record", "units": "1"}),
        "time": ("record", result.times, {"long_name": "averaging time", "units": "time"}),
    }, attrs={"title": "Reference Lyapunov spectrum of Lorenz-63 from its equations (QR)", "dt": dt,
              "n_qr": result.n_qr, "t_total": cfg["t_total"], "t_transient": cfg["t_transient"]})
