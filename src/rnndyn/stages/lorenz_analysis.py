"""Analyses of the Lorenz stage: the truth (attractor, delay embedding, floor, linear baseline) and
each trained network in closed loop (forecasts, Lyapunov spectrum, topology, DSR metrics).

Every network is run in closed loop: teacher-forced on ``warmup_steps`` observed samples, then
autonomously on its own predictions (:func:`rnndyn.models.closed_loop`), in float64. Forecasts are
scored against the clean, standardised x of the same trajectories.

Reconstruction metrics (Koppe et al. 2019; Mikhaeil et al. 2022; Hess et al. 2023) are computed
between the generated and the true x(t) over the same number of samples: D_stsp on delay vectors
(the truth's lag and FNN dimension, ``n_bins`` bins per dimension), D_H on x itself (smoothing
``sigma`` frequency bins) averaged over trajectory pairs. They are read against a floor (two
independent sets of true trajectories) and a linear AR(p) baseline fitted to the training data
and run closed loop from the same warm-ups.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import xarray as xr

from rnndyn.analysis.autoregressive import autoregressive_rollout, fit_autoregressive
from rnndyn.analysis.dsr import power_spectrum_hellinger, state_space_divergence, valid_prediction_time
from rnndyn.analysis.embedding import embedding_dimension
from rnndyn.analysis.lyapunov import kaplan_yorke_dimension, lyapunov_spectrum_autograd
from rnndyn.analysis.topology import bottleneck_distance
from rnndyn.models import RecurrentModel, closed_loop
from rnndyn.stages.lorenz_data import COMPONENTS, true_x
from rnndyn.stages.lorenz_takens import (
    ami_lag,
    cloud_d2,
    cloud_topology,
    delay_cloud,
    fnn_fractions,
    nolds_d2,
    principal_components,
    scalar_variables,
    state_cloud,
    topology_variables,
)
from rnndyn.systems.lorenz import LYAPUNOV_TIME

UNITS = "1"
VPT_UNITS = "Lyapunov times"


def dsr_metrics(generated: np.ndarray, truth: np.ndarray, *, dim: int, lag: int, n_bins: int,
                sigma: float) -> tuple[float, float]:
    """(D_stsp, D_H) between generated and true series, both (N, T).

    D_stsp: KL divergence of the binned occupations of the delay vectors (``dim``, ``lag``) of all
    series; D_H: mean over pairs (generated i, true i) of the power-spectrum Hellinger distance. A
    generated series with non-finite values (a run that blew up) has no spectrum: it scores the
    largest Hellinger distance, 1.
    """
    d_stsp = state_space_divergence(delay_cloud(generated, dim, lag, 1), delay_cloud(truth, dim, lag, 1), n_bins)
    d_h = [power_spectrum_hellinger(g, t, sigma) if np.all(np.isfinite(g)) else 1.0
           for g, t in zip(generated, truth)]
    return d_stsp, float(np.mean(d_h))


def _windows(x: np.ndarray, length: int) -> np.ndarray:
    """Consecutive non-overlapping windows of ``length`` samples of each series (N, T) -> (M, length)."""
    n = x.shape[1] // length
    return x[:, : n * length].reshape(x.shape[0] * n, length)


def forecast_windows(data: xr.Dataset, split: str, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Warm-up inputs (M, W) (observed x) and truths (M, horizon) (clean x) of a split.

    The test split holds one window per trajectory; longer splits are cut into consecutive windows.
    """
    warmup = int(data.attrs["warmup_steps"])
    observed = _windows(data[f"x_{split}"].values, warmup + horizon)
    clean = _windows(true_x(data, split), warmup + horizon)
    return observed[:, :warmup], clean[:, warmup:]


def run_closed_loop(model: RecurrentModel, warmup: np.ndarray, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Closed-loop predictions (N, n_steps) and full states (N, n_steps, state_size), float64."""
    with torch.no_grad():
        predictions, states = closed_loop(model, torch.from_numpy(warmup[..., None]).to(torch.float64), n_steps)
    return predictions[..., 0].numpy(), states.numpy()


def _vpt(prediction: np.ndarray, truth: np.ndarray, cfg: dict[str, Any], dt: float) -> np.ndarray:
    # Standardised units: the training split's standard deviation is 1.
    return valid_prediction_time(prediction[..., None], truth[..., None], scale=1.0,
                                 threshold=cfg["vpt_threshold"], dt=dt, lyapunov_time=LYAPUNOV_TIME)


def attractor_window(data: xr.Dataset) -> tuple[slice, int]:
    """The samples after the warm-up of the attractor/floor splits, and their number T."""
    warmup = int(data.attrs["warmup_steps"])
    n = data.sizes["attractor_step"] - 1 - warmup
    return slice(warmup, warmup + n), n


def truth_analysis(data: xr.Dataset, cfg: dict[str, Any], rng: np.random.Generator) -> xr.Dataset:
    """Embedding parameters, the true and delay clouds, the metric floor and the AR baseline.

    Parameters
    ----------
    data
        The data rule's dataset.
    cfg
        The ``lorenz.analysis`` config section.
    rng
        Landmarks and D2 radii.

    Returns
    -------
    xarray.Dataset
        AMI curve and lag, FNN curve and embedding dimension, topology of the true (x, y, z) cloud
        (``true_*``) and of the delay embedding of x (``delay_*``) and their H1 bottleneck
        distance, nolds' D2 of x, D_stsp and D_H of the floor and of the AR baseline, the AR
        baseline's valid prediction times, and short samples of both clouds for plotting.
    """
    takens, dsr = cfg["takens"], cfg["dsr"]
    window, n_steps = attractor_window(data)
    dt, warmup = float(data.attrs["dt"]), int(data.attrs["warmup_steps"])
    observed = data["x_attractor"].values[:, window]
    lag, ami = ami_lag(observed, takens)
    fnn = fnn_fractions(observed, lag, takens)
    dim = embedding_dimension(fnn, takens["fnn_dims"], takens["fnn_threshold"])
    states = data["state_attractor"].values[:, window]
    true_topo = cloud_topology(state_cloud(states, takens["cloud_stride"]), takens, rng)
    delay_points = delay_cloud(observed, dim, lag, takens["cloud_stride"])
    delay_topo = cloud_topology(delay_points, takens, rng)

    truth, floor = true_x(data, "attractor")[:, window], true_x(data, "floor")[:, window]
    floor_stsp, floor_h = dsr_metrics(floor, truth, dim=dim, lag=lag, n_bins=dsr["n_bins"], sigma=dsr["sigma"])
    order = dsr["ar_order"]
    if order > warmup:
        raise ValueError(f"AR order {order} exceeds the warm-up of {warmup} steps")
    ar = fit_autoregressive(data["x_train"].values, order, ridge=dsr["ar_ridge"])
    ar_run = autoregressive_rollout(ar, data["x_attractor"].values[:, warmup - order:warmup], n_steps)
    ar_stsp, ar_h = dsr_metrics(ar_run, truth, dim=dim, lag=lag, n_bins=dsr["n_bins"], sigma=dsr["sigma"])
    test_warmup, test_truth = forecast_windows(data, "test", data.sizes["test_step"] - 1 - warmup)
    ar_forecast = autoregressive_rollout(ar, test_warmup[:, -order:], test_truth.shape[1])
    plot = slice(0, min(cfg["plot_steps"], n_steps - (dim - 1) * lag))

    variables = {
        "ami": (("lag",), ami, {"long_name": "auto mutual information of x, mean over trajectories", "units": "nat"}),
        "delay_lag": ((), lag, {"long_name": "delay: first minimum of the AMI", "units": "steps"}),
        "embedding_dim": ((), dim, {"long_name": "embedding dimension: FNN fraction at most the threshold",
                                    "units": "1"}),
        **scalar_variables("true_x", "the true x", fnn, nolds_d2(observed, lag, takens)),
        **topology_variables("true", "true (x, y, z) attractor", true_topo),
        **topology_variables("delay", "delay embedding of x", delay_topo),
        "bottleneck_true_delay": ((), bottleneck_distance(true_topo.h1, delay_topo.h1),
                                  {"long_name": "H1 bottleneck distance, true vs delay cloud",
                                   "units": "normalised distance"}),
        "floor_d_stsp": ((), floor_stsp, {"long_name": "D_stsp between two sets of true trajectories", "units": "nat"}),
        "floor_d_h": ((), floor_h, {"long_name": "D_H between two sets of true trajectories", "units": "1"}),
        "ar_d_stsp": ((), ar_stsp, {"long_name": f"D_stsp of the closed-loop AR({order}) baseline", "units": "nat"}),
        "ar_d_h": ((), ar_h, {"long_name": f"D_H of the closed-loop AR({order}) baseline", "units": "1"}),
        "ar_weights": (("ar_lag",), ar.weights, {"long_name": "AR weights a_k on x_{t-k}", "units": "1"}),
        # Below 1: the closed-loop AR decays to its mean; above: it blows up.
        "ar_max_root": ((), np.abs(np.roots(np.r_[1.0, -ar.weights])).max(),
                        {"long_name": "largest modulus of the AR characteristic roots", "units": "1"}),
        "ar_vpt": (("test_trajectory",), _vpt(ar_forecast, test_truth, cfg, dt),
                   {"long_name": "valid prediction time of the AR baseline", "units": VPT_UNITS}),
        "true_sample": (("plot_step", "component"), states[0, plot],
                        {"long_name": "true state, first attractor trajectory", "units": UNITS}),
        "delay_sample": (("plot_step", "delay_coordinate"), delay_cloud(observed[:1], dim, lag, 1)[plot],
                         {"long_name": "delay vectors of x, first attractor trajectory", "units": UNITS}),
        "ar_sample": (("plot_step",), ar_run[0, plot], {"long_name": "AR baseline's closed-loop x", "units": UNITS}),
        "true_x_sample": (("plot_step",), truth[0, plot], {"long_name": "true standardised x", "units": UNITS}),
    }
    return xr.Dataset(variables, coords={
        "lag": ("lag", np.arange(ami.size), {"long_name": "lag", "units": "steps"}),
        "fnn_dim": ("fnn_dim", np.asarray(takens["fnn_dims"]), {"long_name": "embedding dimension", "units": "1"}),
        "ar_lag": ("ar_lag", np.arange(1, order + 1), {"long_name": "AR lag k", "units": "steps"}),
        "component": ("component", np.array(COMPONENTS, dtype=object), {"long_name": "state component"}),
    }, attrs={"title": "Lorenz truth: embedding, topology, metric floor and linear baseline",
              "dt": dt, "n_bins": dsr["n_bins"], "sigma": dsr["sigma"], "ar_order": order,
              "n_landmarks": takens["n_landmarks"], "cloud_stride": takens["cloud_stride"],
              "fnn_threshold": takens["fnn_threshold"], "dominant_fraction": takens["dominant_fraction"]})


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


def analyse_model(model: RecurrentModel, data: xr.Dataset, truth: xr.Dataset, cfg: dict[str, Any],
                  rng: np.random.Generator) -> xr.Dataset:
    """Closed-loop analysis of one trained network (float64).

    Parameters
    ----------
    model
        The network (:func:`rnndyn.stages.lorenz_training.load_lorenz_model`).
    data, truth
        The data rule's and the truth rule's datasets.
    cfg
        The ``lorenz.analysis`` config section.
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
    horizon = data.sizes["test_step"] - 1 - int(data.attrs["warmup_steps"])
    vpt = {}
    for split in ("test", "val"):
        warmup, target = forecast_windows(data, split, horizon)
        vpt[split] = _vpt(run_closed_loop(model, warmup, horizon)[0], target, cfg, dt)

    window, n_steps = attractor_window(data)
    generated, states = run_closed_loop(model, data["x_attractor"].values[:, : window.start], n_steps)
    spectrum = lyapunov_of_network(model, states[:, -1], cfg["lyapunov"], dt, rng)
    cloud = state_cloud(states, takens["cloud_stride"])
    hidden = cloud_topology(cloud, takens, rng)
    lag, dim = int(truth["delay_lag"]), int(truth["embedding_dim"])
    d_stsp, d_h = dsr_metrics(generated, true_x(data, "attractor")[:, window], dim=dim, lag=lag,
                              n_bins=dsr["n_bins"], sigma=dsr["sigma"])
    # D2 of the network's output attractor (delay vectors of its x), beside that of its states: a
    # smooth embedding keeps D2, so a gap between the two is geometry of the state space at the
    # scales of the fit, not a different attractor.
    output_d2 = cloud_d2(delay_cloud(generated, dim, lag, takens["cloud_stride"]), takens, rng)
    mean, axes = principal_components(cloud, 3)
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
