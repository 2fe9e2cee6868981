"""The truth of the Lorenz stage (rule ``lorenz_truth``): what every trained network is compared with.

From the data job's long true trajectories: the delay embedding of x (lag from the first minimum
of the auto mutual information, dimension from false nearest neighbours), the topology and
dimension of the true (x, y, z) cloud and of the delay cloud (:mod:`.lorenz_takens`), the floor of
the reconstruction metrics (two independent sets of true trajectories of the same length), a
linear AR(p) forecast baseline fitted to the training data (its valid prediction times) and the
linear-Gaussian nulls of the reconstruction metrics (:func:`linear_gaussian_nulls`).

Reconstruction metrics (Koppe et al. 2019; Mikhaeil et al. 2022; Hess et al. 2023,
:func:`rnndyn.analysis.dsr.reconstruction_metrics`) are computed between generated and true x(t)
over the same number of samples: D_stsp on delay vectors (the truth's lag and FNN dimension,
``n_bins`` bins per dimension), D_H on x itself (smoothing ``sigma`` frequency bins) averaged over
trajectory pairs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from rnndyn.analysis.autoregressive import (
    aaft_surrogates,
    autoregressive_rollout,
    fit_autoregressive,
    yule_walker_null,
    simulate_linear_gaussian_null,
)
from rnndyn.analysis.dsr import (
    HESS_2023,
    MIKHAEIL_2022,
    power_spectrum_distance,
    reconstruction_metrics,
    state_space_divergence,
    valid_prediction_time,
)
from rnndyn.analysis.embedding import delay_cloud, embedding_dimension, state_cloud
from rnndyn.analysis.topology import bottleneck_distance
from rnndyn.stages.lorenz_data import (
    COMPONENTS,
    attractor_window,
    clean,
    forecast_horizon,
    forecast_windows,
    observed,
    true_x,
)
from rnndyn.stages.lorenz_takens import (
    ami_lag,
    cloud_topology,
    fnn_fractions,
    nolds_d2,
    scalar_variables,
    sweep_variables,
    topology_sweep,
    topology_variables,
)
from rnndyn.systems.lorenz import LYAPUNOV_TIME

if TYPE_CHECKING:
    from rnndyn.jobs import Job

PRESETS = (MIKHAEIL_2022, HESS_2023)
"""The published metric settings every full-state network (and the floor) is scored under."""
UNITS = "1"
VPT_UNITS = "Lyapunov times"


def truth_job(job: Job) -> None:
    """Rule ``lorenz_truth``: :func:`truth_analysis` of the data, drawing from the streams ``("truth",)``
    (landmarks, radii) and ``("null",)`` (the linear-Gaussian nulls)."""
    truth = truth_analysis(job.read(), job.config, job.streams.numpy("truth"), job.streams.numpy("null"))
    job.log.info("lag %d, dimension %d, D2 true %.3f delay %.3f, floor D_stsp %.4g D_H %.4g, AR null D_stsp %.4g D_H %.4g",
                 int(truth["delay_lag"]), int(truth["embedding_dim"]), float(truth["true_d2"]),
                 float(truth["delay_d2"]), float(truth["floor_d_stsp"]), float(truth["floor_d_h"]),
                 float(truth["null_d_stsp"]), float(truth["null_d_h"]))
    job.write(truth)


def forecast_vpt(prediction: np.ndarray, truth: np.ndarray, threshold: float, dt: float) -> np.ndarray:
    """Valid prediction times (Lyapunov times) of forecasts (M, T) of the standardised x (or (M, T, d)
    of the standardised full state) against the truth.

    Standardised units: the training split's standard deviation, the error's scale, is 1.
    """
    if prediction.ndim == 2:
        prediction, truth = prediction[..., None], truth[..., None]
    return valid_prediction_time(prediction, truth, scale=1.0, threshold=threshold, dt=dt,
                                 lyapunov_time=LYAPUNOV_TIME)


def truth_analysis(data: xr.Dataset, cfg: dict[str, Any], rng: np.random.Generator,
                   null_rng: np.random.Generator) -> xr.Dataset:
    """Embedding parameters, the true and delay clouds, the metric floor, the AR forecast baseline and
    the linear-Gaussian nulls of the reconstruction metrics.

    The nulls (:func:`linear_gaussian_nulls`) are what a network must beat for its D_stsp and D_H to
    mean nonlinear reconstruction: the Yule–Walker AR(p) of the training split driven by its own
    residual noise (keeps the data's variance and autocorrelation, unlike the noiseless closed-loop
    AR, which relaxes to its mean and cannot win), and amplitude-adjusted Fourier surrogates of
    independent true trajectories (Theiler et al. 1992: exactly the values of x and nearly its
    spectrum). In the full setting, the vector AR(p) of (x, y, z) driven by its residual noise,
    scored under each published preset.

    Parameters
    ----------
    data
        The data job's dataset.
    cfg
        The ``lorenz.analysis`` settings (``vpt_threshold``, ``plot_steps``, ``takens``, ``dsr``).
    rng
        Landmarks and D2 radii.
    null_rng
        The nulls' noise and surrogate phases.

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
    true_points = state_cloud(states, takens["cloud_stride"])
    true_topo = cloud_topology(true_points, takens, rng)
    delay_points = delay_cloud(observed, dim, lag, takens["cloud_stride"])
    delay_topo = cloud_topology(delay_points, takens, rng)
    # The filter and the dominance fraction of the H1 verdict, justified by a sweep over both on the
    # truth's clouds (stored and plotted), not by the one setting used.
    sweeps = {name: topology_sweep(points, takens["sweep_keeps"], takens["sweep_fractions"], takens, rng)
              for name, points in (("true", true_points), ("delay", delay_points))}

    truth, floor = true_x(data, "attractor")[:, window], true_x(data, "floor")[:, window]
    floor_stsp, floor_h = reconstruction_metrics(floor, truth, dim=dim, lag=lag, n_bins=dsr["n_bins"], sigma=dsr["sigma"])
    full_truth, full_floor = clean(data, "attractor", "full")[:, window], clean(data, "floor", "full")[:, window]
    presets = {}
    for preset in PRESETS:
        presets[f"floor_d_stsp_{preset.name}"] = ((), float(state_space_divergence(full_floor, full_truth, preset)), {
            "long_name": f"D_stsp between two sets of true full-state trajectories, {preset.name} settings",
            "units": "nat", "settings": preset.describe()})
        presets[f"floor_d_h_{preset.name}"] = ((), float(power_spectrum_distance(full_floor, full_truth, preset)), {
            "long_name": f"D_H between two sets of true full-state trajectories, {preset.name} settings",
            "units": "1", "settings": preset.describe()})
    order = dsr["ar_order"]
    if order > warmup:
        raise ValueError(f"AR order {order} exceeds the warm-up of {warmup} steps")
    ar = fit_autoregressive(data["x_train"].values, order, ridge=dsr["ar_ridge"])
    test_warmup, test_truth = forecast_windows(data, "test", forecast_horizon(data))
    ar_forecast = autoregressive_rollout(ar, test_warmup[:, -order:], test_truth.shape[1])
    plot = slice(0, min(cfg["plot_steps"], n_steps - (dim - 1) * lag))
    nulls = linear_gaussian_nulls(data, order, n_steps, null_rng)
    null_stsp, null_h = reconstruction_metrics(nulls["ar"], truth, dim=dim, lag=lag, n_bins=dsr["n_bins"],
                                               sigma=dsr["sigma"])
    aaft_stsp, aaft_h = reconstruction_metrics(nulls["aaft"], truth, dim=dim, lag=lag, n_bins=dsr["n_bins"],
                                               sigma=dsr["sigma"])
    for preset in PRESETS:
        presets[f"null_d_stsp_{preset.name}"] = ((), float(state_space_divergence(nulls["var"], full_truth, preset)), {
            "long_name": f"D_stsp of the noise-driven VAR({order}) null of (x, y, z), {preset.name} settings",
            "units": "nat", "settings": preset.describe()})
        presets[f"null_d_h_{preset.name}"] = ((), float(power_spectrum_distance(nulls["var"], full_truth, preset)), {
            "long_name": f"D_H of the noise-driven VAR({order}) null of (x, y, z), {preset.name} settings",
            "units": "1", "settings": preset.describe()})

    variables = {
        "ami": (("lag",), ami, {"long_name": "auto mutual information of x, mean over trajectories", "units": "nat"}),
        "delay_lag": ((), lag, {"long_name": "delay: first minimum of the AMI", "units": "steps"}),
        "embedding_dim": ((), dim, {"long_name": "embedding dimension: FNN fraction at most the threshold",
                                    "units": "1"}),
        **scalar_variables("true_x", "the true x", fnn, nolds_d2(observed, lag, takens)),
        **topology_variables("true", "true (x, y, z) attractor", true_topo),
        **topology_variables("delay", "delay embedding of x", delay_topo),
        **sweep_variables("true", "true (x, y, z) attractor", sweeps["true"]),
        **sweep_variables("delay", "delay embedding of x", sweeps["delay"]),
        "bottleneck_true_delay": ((), bottleneck_distance(true_topo.h1, delay_topo.h1),
                                  {"long_name": "H1 bottleneck distance, true vs delay cloud",
                                   "units": "normalised distance"}),
        "floor_d_stsp": ((), floor_stsp, {"long_name": "D_stsp between two sets of true trajectories", "units": "nat"}),
        "floor_d_h": ((), floor_h, {"long_name": "D_H between two sets of true trajectories", "units": "1"}),
        **presets,
        "null_d_stsp": ((), null_stsp, {"long_name": f"D_stsp of the noise-driven AR({order}) null of x",
                                        "units": "nat"}),
        "null_d_h": ((), null_h, {"long_name": f"D_H of the noise-driven AR({order}) null of x", "units": "1"}),
        "aaft_d_stsp": ((), aaft_stsp, {"long_name": "D_stsp of AAFT surrogates of independent true x", "units": "nat"}),
        "aaft_d_h": ((), aaft_h, {"long_name": "D_H of AAFT surrogates of independent true x", "units": "1"}),
        "null_sample": (("plot_step",), nulls["ar"][0, plot],
                        {"long_name": "noise-driven AR null's x", "units": UNITS}),
        "ar_weights": (("ar_lag",), ar.weights, {"long_name": "AR weights a_k on x_{t-k}", "units": "1"}),
        # Below 1: the closed-loop AR decays to its mean; above: it blows up.
        "ar_max_root": ((), np.abs(np.roots(np.r_[1.0, -ar.weights])).max(),
                        {"long_name": "largest modulus of the AR characteristic roots", "units": "1"}),
        "ar_vpt": (("test_trajectory",), forecast_vpt(ar_forecast, test_truth, cfg["vpt_threshold"], dt),
                   {"long_name": "valid prediction time of the AR baseline", "units": VPT_UNITS}),
        "true_sample": (("plot_step", "component"), states[0, plot],
                        {"long_name": "true state, first attractor trajectory", "units": UNITS}),
        "delay_sample": (("plot_step", "delay_coordinate"), delay_cloud(observed[:1], dim, lag)[plot],
                         {"long_name": "delay vectors of x, first attractor trajectory", "units": UNITS}),
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


def linear_gaussian_nulls(data: xr.Dataset, order: int, n_steps: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The linear-Gaussian nulls of the reconstruction metrics (see :func:`truth_analysis`).

    Returns
    -------
    dict
        ``"ar"``: (N, n_steps) x of the Yule–Walker AR(``order``) of the training x
        (:func:`rnndyn.analysis.autoregressive.yule_walker_null`: stable, with the data's variance)
        driven by its residual noise from the attractor split's warm-ups (the networks' own); ``"aaft"``: (N,
        n_steps) one AAFT surrogate of each true x of the floor split (independent of the attractor
        split the metrics compare with); ``"var"``: (N, n_steps, 3) the vector AR(``order``) of the
        standardised (x, y, z) driven the same way.
    """
    warmup = int(data.attrs["warmup_steps"])
    window, _ = attractor_window(data)
    scalar = yule_walker_null(data["x_train"].values, order)
    ar = simulate_linear_gaussian_null(scalar, data["x_attractor"].values[:, warmup - order:warmup], n_steps, rng)
    aaft = np.concatenate([aaft_surrogates(series, 1, rng) for series in true_x(data, "floor")[:, window]])
    vector = yule_walker_null(observed(data, "train", "full"), order)
    var = simulate_linear_gaussian_null(vector, observed(data, "attractor", "full")[:, warmup - order:warmup],
                                        n_steps, rng)
    return {"ar": ar, "aaft": aaft, "var": var}
