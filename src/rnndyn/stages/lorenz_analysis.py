"""Every trained network of the Lorenz stage in closed loop (rule ``lorenz_analyse``): forecasts,
Lyapunov spectrum, Takens topology and reconstruction metrics.

A network is teacher-forced on ``warmup_steps`` observed samples, then run autonomously on its own
predictions (:func:`rnndyn.models.closed_loop`), in float64. Forecasts are scored against the
clean, standardised x of the same trajectories; the long runs from the attractor split's warm-ups
give the network's attractor: its state cloud (topology, D2), its x (FNN, D2 of its delay
embedding, D_stsp and D_H against the truth, :mod:`.lorenz_truth`) and the starting states of its
closed-loop Lyapunov spectrum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import xarray as xr

from rnndyn.analysis.dsr import reconstruction_metrics
from rnndyn.analysis.embedding import delay_cloud, state_cloud
from rnndyn.analysis.lyapunov import kaplan_yorke_dimension, lyapunov_spectrum_autograd
from rnndyn.analysis.pca import principal_axes
from rnndyn.analysis.topology import bottleneck_distance
from rnndyn.models import RecurrentModel, closed_loop
from rnndyn.models.trained import load_network, network_identity
from rnndyn.stages.lorenz_data import attractor_window, forecast_horizon, forecast_windows, true_x
from rnndyn.stages.lorenz_takens import (
    cloud_d2,
    cloud_topology,
    fnn_fractions,
    nolds_d2,
    scalar_variables,
    topology_variables,
)
from rnndyn.stages.lorenz_truth import UNITS, VPT_UNITS, forecast_vpt

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def analyse_job(job: Job) -> None:
    """Rule ``lorenz_analyse``: :func:`analyse_network` of the job's trained network, drawing from
    the stream ``("analysis",)``; the result carries the network's identity."""
    network = job.read("network")
    result = analyse_network(load_network(network), job.read("data"), job.read("truth"), job.config,
                             job.streams.numpy("analysis"))
    job.log.info("spectrum %s; median test VPT %.3f; D_stsp %.4g, D_H %.4g; H1 dominant %d, D2 %.3f",
                 result["lyapunov_mean"].values[:3], float(result["vpt_test"].median()), float(result["d_stsp"]),
                 float(result["d_h"]), int(result["hidden_n_dominant_h1"]), float(result["hidden_d2"]))
    job.write(result.assign_attrs(identity=network_identity(network)))


def run_closed_loop(model: RecurrentModel, warmup: np.ndarray, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Closed-loop predictions (N, n_steps) and full states (N, n_steps, state_size), float64."""
    with torch.no_grad():
        predictions, states = closed_loop(model, torch.from_numpy(warmup[..., None]).to(torch.float64), n_steps)
    return predictions[..., 0].numpy(), states.numpy()


def lyapunov_of_network(model: RecurrentModel, states: np.ndarray, cfg: dict[str, Any], dt: float,
                        rng: np.random.Generator):
    """Full closed-loop Lyapunov spectrum of a network, per unit time.

    The map is one closed-loop step ``s -> step(readout(s), s)`` on the full state; its Jacobians
    come from autograd and the spectrum from QR (:func:`lyapunov_spectrum_autograd`). It starts
    from ``n_trajectories`` states of the network's own attractor (``states`` (N, d)).
    """
    def closed_loop_step(state: torch.Tensor) -> torch.Tensor:
        return model.step(model.readout(state), state)

    start = torch.from_numpy(states[: cfg["n_trajectories"]])
    return lyapunov_spectrum_autograd(closed_loop_step, start, n_steps=cfg["n_steps"],
                                      n_transient=cfg["n_transient"], dt=dt, rng=rng)


def analyse_network(model: RecurrentModel, data: xr.Dataset, truth: xr.Dataset, cfg: dict[str, Any],
                    rng: np.random.Generator) -> xr.Dataset:
    """Closed-loop analysis of one trained network (float64).

    Parameters
    ----------
    model
        The network (:func:`rnndyn.models.trained.load_network`, float64).
    data, truth
        The data job's and the truth job's datasets.
    cfg
        The ``lorenz.analysis`` settings.
    rng
        Tangent basis, landmarks, D2 radii.

    Returns
    -------
    xarray.Dataset
        Valid prediction times on the test and validation splits, the Lyapunov spectrum and its
        running estimate, the topology of the closed-loop state cloud (``hidden_*``) with its H1
        bottleneck distances to the true and delay clouds, FNN and nolds' D2 of the generated x,
        D_stsp and D_H, and plotting samples.
    """
    takens, dsr = cfg["takens"], cfg["dsr"]
    dt = float(data.attrs["dt"])
    horizon = forecast_horizon(data)
    vpt = {}
    for split in ("test", "val"):
        warmup, target = forecast_windows(data, split, horizon)
        vpt[split] = forecast_vpt(run_closed_loop(model, warmup, horizon)[0], target, cfg["vpt_threshold"], dt)

    window, n_steps = attractor_window(data)
    generated, states = run_closed_loop(model, data["x_attractor"].values[:, : window.start], n_steps)
    spectrum = lyapunov_of_network(model, states[:, -1], cfg["lyapunov"], dt, rng)
    cloud = state_cloud(states, takens["cloud_stride"])
    hidden = cloud_topology(cloud, takens, rng)
    lag, dim = int(truth["delay_lag"]), int(truth["embedding_dim"])
    d_stsp, d_h = reconstruction_metrics(generated, true_x(data, "attractor")[:, window], dim=dim, lag=lag,
                              n_bins=dsr["n_bins"], sigma=dsr["sigma"])
    # D2 of the network's output attractor (delay vectors of its x), beside that of its states: a
    # smooth embedding keeps D2, so a gap between the two is geometry of the state space at the
    # scales of the fit, not a different attractor.
    output_d2 = cloud_d2(delay_cloud(generated, dim, lag, takens["cloud_stride"]), takens, rng)
    mean, axes, _ = principal_axes(cloud, 3)
    plot = slice(0, min(cfg["plot_steps"], n_steps))
    exponents = spectrum.exponents
    distance = {name: bottleneck_distance(hidden.h1, truth[f"{name}_h1"].values) for name in ("true", "delay")}

    variables = {
        "vpt_test": (("test_trajectory",), vpt["test"],
                     {"long_name": "valid prediction time on the test split", "units": VPT_UNITS}),
        "vpt_val": (("val_window",), vpt["val"],
                    {"long_name": "valid prediction time on the validation split", "units": VPT_UNITS}),
        "lyapunov": (("lyapunov_trajectory", "exponent"), exponents,
                     {"long_name": "closed-loop Lyapunov exponents, descending", "units": "1/time"}),
        "lyapunov_mean": (("exponent",), exponents.mean(axis=0),
                          {"long_name": "closed-loop Lyapunov spectrum (mean over trajectories)", "units": "1/time"}),
        "lyapunov_running": (("record", "exponent"), spectrum.running.mean(axis=1),
                             {"long_name": "running estimate of the spectrum (mean over trajectories)",
                              "units": "1/time"}),
        "lyapunov_time": (("record",), spectrum.times, {"long_name": "averaging time of the record", "units": "time"}),
        "kaplan_yorke": ((), float(kaplan_yorke_dimension(exponents.mean(axis=0))),
                         {"long_name": "Kaplan-Yorke dimension of the mean spectrum", "units": "1"}),
        **topology_variables("hidden", "closed-loop network state", hidden),
        "bottleneck_hidden_true": ((), distance["true"], {"long_name": "H1 bottleneck distance, network vs true cloud",
                                                          "units": "normalised distance"}),
        "bottleneck_hidden_delay": ((), distance["delay"],
                                    {"long_name": "H1 bottleneck distance, network vs delay cloud",
                                     "units": "normalised distance"}),
        **scalar_variables("generated_x", "the network's closed-loop x", _safe_fnn(generated, lag, takens),
                           _safe_nolds(generated, lag, takens)),
        "generated_delay_d2": ((), float("nan") if output_d2 is None else output_d2.dimension,
                               {"long_name": "correlation dimension D2 of the delay embedding of the generated x",
                                "units": "1"}),
        "d_stsp": ((), d_stsp, {"long_name": "D_stsp between generated and true x (delay vectors)", "units": "nat"}),
        "d_h": ((), d_h, {"long_name": "D_H between generated and true x", "units": "1"}),
        "generated_sample": (("plot_step",), generated[0, plot],
                             {"long_name": "closed-loop x of the network, first trajectory", "units": UNITS}),
        "hidden_sample": (("plot_step", "principal_component"), (states[0, plot] - mean) @ axes.T,
                          {"long_name": "closed-loop state projected on its first principal components",
                           "units": UNITS}),
    }
    return xr.Dataset(variables, coords={
        "exponent": ("exponent", np.arange(1, exponents.shape[1] + 1), {"long_name": "exponent index", "units": "1"}),
        "fnn_dim": ("fnn_dim", np.asarray(takens["fnn_dims"]), {"long_name": "embedding dimension", "units": "1"}),
    }, attrs={"title": "Closed-loop analysis of a trained network on Lorenz x", "dt": dt,
              "state_size": int(model.state_size), "n_qr": spectrum.n_qr})


def _safe_fnn(x: np.ndarray, lag: int, cfg: dict[str, Any]) -> np.ndarray:
    """FNN fractions, NaN for a series without spread (a network collapsed onto a fixed point)."""
    if not np.all(np.isfinite(x)) or np.ptp(x[: cfg["fnn_trajectories"]], axis=1).min() == 0:
        return np.full(len(cfg["fnn_dims"]), np.nan)
    return fnn_fractions(x, lag, cfg)


def _safe_nolds(x: np.ndarray, lag: int, cfg: dict[str, Any]) -> float:
    """nolds' D2, NaN for a series without spread."""
    if not np.all(np.isfinite(x[0])) or np.ptp(x[0]) == 0:
        return float("nan")
    return nolds_d2(x, lag, cfg)
