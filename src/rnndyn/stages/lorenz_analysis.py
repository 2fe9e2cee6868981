"""Every trained network of the Lorenz stage in closed loop (rule ``lorenz_analyse``): forecasts,
Lyapunov spectrum, Takens topology and reconstruction metrics.

A network is teacher-forced on ``warmup_steps`` observed samples, then run autonomously on its own
predictions (:func:`rnndyn.models.closed_loop`), in float64. Forecasts are scored against the
clean, standardised x of the same trajectories; the long runs from the attractor split's warm-ups
give the network's attractor: its state cloud (topology, D2), its x (FNN, D2 of its delay
embedding, D_stsp and D_H against the truth, :mod:`.lorenz_truth`) and the starting states of its
closed-loop Lyapunov spectrum. The conditional spectrum of the same network, driven open loop by
the data's drive split, tells which closed-loop exponents are transverse (Hart 2024): the rest
are the intrinsic exponents the claims compare with Lorenz's (:func:`network_spectra`).

In the full setting the network predicts the standardised (x, y, z): its valid prediction time is
on the full state, the generated (x, y, z) cloud stands beside the hidden-state cloud (topology,
D2) instead of a delay embedding, and D_stsp and D_H of the generated full state are computed
under both published presets (:data:`rnndyn.stages.lorenz_truth.PRESETS`)
on the z-scored data; the delay-vector metrics of its x are kept for comparison with the scalar setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import xarray as xr

from rnndyn.analysis.dsr import power_spectrum_distance, reconstruction_metrics, state_space_divergence
from rnndyn.analysis.embedding import delay_cloud, state_cloud
from rnndyn.analysis.lyapunov import LyapunovResult, kaplan_yorke_dimension
from rnndyn.analysis.network_lyapunov import (
    ExponentSplit,
    closed_loop_spectrum,
    conditional_spectrum,
    intrinsic_exponents,
)
from rnndyn.analysis.pca import principal_axes
from rnndyn.analysis.topology import bottleneck_distance
from rnndyn.models import RecurrentModel, closed_loop
from rnndyn.models.trained import load_network, network_identity
from rnndyn.stages.lorenz_data import (
    attractor_window,
    clean,
    forecast_horizon,
    forecast_windows,
    observed,
    true_x,
)
from rnndyn.stages.lorenz_takens import (
    cloud_d2,
    cloud_topology,
    d2_variables,
    fnn_fractions,
    nolds_d2,
    scalar_variables,
    topology_variables,
)
from rnndyn.stages.lorenz_truth import PRESETS, UNITS, VPT_UNITS, forecast_vpt

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def analyse_job(job: Job) -> None:
    """Rule ``lorenz_analyse``: :func:`analyse_network` of the job's trained network, drawing from
    the stream ``("analysis",)``; the result carries the network's identity."""
    network = job.read("network")
    result = analyse_network(load_network(network), job.read("data"), job.read("truth"), job.config,
                             job.streams.numpy("analysis"), setting=job.wildcards["setting"])
    job.log.info("spectrum %s; median test VPT %.3f; D_stsp %.4g, D_H %.4g; H1 dominant %d, D2 %.3f",
                 result["lyapunov_mean"].values[:3], float(result["vpt_test"].median()), float(result["d_stsp"]),
                 float(result["d_h"]), int(result["hidden_n_dominant_h1"]), float(result["hidden_d2"]))
    job.write(result.assign_attrs(identity=network_identity(network)))


def run_closed_loop(model: RecurrentModel, warmup: np.ndarray, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Closed-loop predictions and full states (N, n_steps, state_size), float64.

    ``warmup`` (N, W) gives predictions (N, n_steps) (scalar observations); (N, W, d) gives (N, n_steps, d).
    """
    scalar = warmup.ndim == 2
    inputs = torch.from_numpy(warmup[..., None] if scalar else warmup).to(torch.float64)
    with torch.no_grad():
        predictions, states = closed_loop(model, inputs, n_steps)
    return (predictions[..., 0] if scalar else predictions).numpy(), states.numpy()


@dataclass(frozen=True)
class NetworkSpectra:
    """The closed-loop and conditional spectra of one network and the intrinsic ones among them."""

    closed: LyapunovResult
    conditional: LyapunovResult
    split: ExponentSplit | None
    """``None`` when a spectrum is not finite (a diverging closed loop): nothing to match."""

    def intrinsic(self, k: int = 3) -> np.ndarray:
        """The ``k`` leading intrinsic exponents (mean over trajectories), NaN-padded."""
        out = np.full(k, np.nan)
        if self.split is not None:
            values = self.closed.exponents.mean(axis=0)[self.split.intrinsic][:k]
            out[: values.size] = values
        return out


def network_spectra(model: RecurrentModel, start: np.ndarray, drive: np.ndarray, cfg: dict[str, Any], dt: float,
                    rng: np.random.Generator) -> NetworkSpectra:
    """Full closed-loop and conditional Lyapunov spectra of a network, per unit time, and their split
    into intrinsic and spurious exponents (Hart 2024; :mod:`rnndyn.analysis.network_lyapunov`).

    Parameters
    ----------
    model
        The float64 network.
    start
        (N, S) states of the network's own closed-loop attractor; the first ``n_trajectories`` start
        the closed-loop spectrum.
    drive
        (M, T, d) the observed signal (the drive split) that drives the conditional spectrum, open
        loop, from zero states; its first ``n_trajectories`` series, ``n_transient + n_steps`` steps.
    cfg
        ``lorenz.analysis.lyapunov``: ``n_trajectories``, ``n_steps``, ``n_transient``.
    """
    n, n_steps, n_transient = cfg["n_trajectories"], cfg["n_steps"], cfg["n_transient"]
    if start.shape[0] < n or drive.shape[0] < n or drive.shape[1] < n_transient + n_steps:
        raise ValueError(f"lorenz.analysis.lyapunov needs {n} trajectories of {n_transient + n_steps} steps: "
                         f"{start.shape[0]} attractor runs and a drive of {drive.shape[:2]} (lorenz.data.n_drive, "
                         "drive_steps, n_attractor)")
    closed = closed_loop_spectrum(model, start[:n], n_steps=n_steps, n_transient=n_transient, dt=dt, rng=rng)
    conditional = conditional_spectrum(model, drive[:n, : n_transient + n_steps],
                                       np.zeros((n, model.state_size)), n_transient=n_transient, dt=dt, rng=rng)
    means = [result.exponents.mean(axis=0) for result in (closed, conditional)]
    if np.isnan(np.concatenate(means)).any():
        return NetworkSpectra(closed, conditional, None)
    errors = [standard_error(result.exponents) for result in (closed, conditional)]
    return NetworkSpectra(closed, conditional, intrinsic_exponents(means[0], errors[0], means[1], errors[1], dt=dt))


def standard_error(exponents: np.ndarray) -> np.ndarray:
    """Standard error of the mean over trajectories of exponents (N, k) -> (k,) (0 where an exponent
    is the same infinite value on every trajectory)."""
    finite = np.where(np.isinf(exponents), 0.0, exponents)
    return finite.std(axis=0, ddof=1) / np.sqrt(exponents.shape[0])


def analyse_network(model: RecurrentModel, data: xr.Dataset, truth: xr.Dataset, cfg: dict[str, Any],
                    rng: np.random.Generator, setting: str = "scalar") -> xr.Dataset:
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
    setting
        ``"scalar"`` (the network sees and predicts x) or ``"full"`` ((x, y, z)).

    Returns
    -------
    xarray.Dataset
        Valid prediction times on the test and validation splits, the Lyapunov spectrum and its
        running estimate, the topology of the closed-loop state cloud (``hidden_*``) with its H1
        bottleneck distances to the true and delay clouds, FNN and nolds' D2 of the generated x,
        D_stsp and D_H, and plotting samples; in the full setting also the topology of the
        generated (x, y, z) cloud (``generated_*``) and ``d_stsp_<preset>``, ``d_h_<preset>``.
    """
    takens, dsr = cfg["takens"], cfg["dsr"]
    dt = float(data.attrs["dt"])
    horizon = forecast_horizon(data)
    vpt = {}
    for split in ("test", "val"):
        warmup, target = forecast_windows(data, split, horizon, setting)
        vpt[split] = forecast_vpt(run_closed_loop(model, warmup, horizon)[0], target, cfg["vpt_threshold"], dt)

    window, n_steps = attractor_window(data)
    generated_state, states = run_closed_loop(model, observed(data, "attractor", setting)[:, : window.start], n_steps)
    generated = generated_state[..., 0]  # the generated x, in both settings
    spectra = network_spectra(model, states[:, -1], observed(data, "drive", setting), cfg["lyapunov"], dt, rng)
    spectrum, conditional = spectra.closed, spectra.conditional
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
        "lyapunov_se": (("exponent",), standard_error(exponents),
                        {"long_name": "standard error of the closed-loop spectrum over trajectories",
                         "units": "1/time"}),
        "conditional": (("lyapunov_trajectory", "exponent"), conditional.exponents,
                        {"long_name": "conditional (driven, open-loop) Lyapunov exponents, descending",
                         "units": "1/time"}),
        "conditional_mean": (("exponent",), conditional.exponents.mean(axis=0),
                             {"long_name": "conditional Lyapunov spectrum (mean over trajectories)",
                              "units": "1/time"}),
        "conditional_se": (("exponent",), standard_error(conditional.exponents),
                           {"long_name": "standard error of the conditional spectrum", "units": "1/time"}),
        "conditional_running": (("conditional_record", "exponent"), conditional.running.mean(axis=1),
                                {"long_name": "running estimate of the conditional spectrum", "units": "1/time"}),
        "conditional_time": (("conditional_record",), conditional.times,
                             {"long_name": "averaging time of the record", "units": "time"}),
        "intrinsic": (("exponent",), _intrinsic_mask(spectra, exponents.shape[1]),
                      {"long_name": "closed-loop exponent matched by no conditional one (intrinsic, Hart 2024)",
                       "units": "1"}),
        "intrinsic_lambda": (("intrinsic_index",), spectra.intrinsic(),
                             {"long_name": "three leading intrinsic exponents (NaN: fewer identified)",
                              "units": "1/time"}),
        "n_intrinsic": ((), -1 if spectra.split is None else int(spectra.split.intrinsic.size),
                        {"long_name": "number of intrinsic exponents (-1: spectrum not finite)", "units": "1"}),
        "kaplan_yorke": ((), float(kaplan_yorke_dimension(exponents.mean(axis=0))),
                         {"long_name": "Kaplan-Yorke dimension of the mean spectrum", "units": "1"}),
        "kaplan_yorke_intrinsic": ((), _intrinsic_kaplan_yorke(spectra),
                                   {"long_name": "Kaplan-Yorke dimension of the intrinsic exponents", "units": "1"}),
        **topology_variables("hidden", "closed-loop network state", hidden),
        "bottleneck_hidden_true": ((), distance["true"], {"long_name": "H1 bottleneck distance, network vs true cloud",
                                                          "units": "normalised distance"}),
        "bottleneck_hidden_delay": ((), distance["delay"],
                                    {"long_name": "H1 bottleneck distance, network vs delay cloud",
                                     "units": "normalised distance"}),
        **scalar_variables("generated_x", "the network's closed-loop x", _safe_fnn(generated, lag, takens),
                           _safe_nolds(generated, lag, takens)),
        **d2_variables("generated_delay", "delay embedding of the generated x", output_d2),
        "d_stsp": ((), d_stsp, {"long_name": "D_stsp between generated and true x (delay vectors)", "units": "nat"}),
        "d_h": ((), d_h, {"long_name": "D_H between generated and true x", "units": "1"}),
        **(full_state_variables(generated_state, clean(data, "attractor", setting)[:, window], takens, rng)
           if setting == "full" else {}),
        "generated_sample": (("plot_step",), generated[0, plot],
                             {"long_name": "closed-loop x of the network, first trajectory", "units": UNITS}),
        "hidden_sample": (("plot_step", "principal_component"), (states[0, plot] - mean) @ axes.T,
                          {"long_name": "closed-loop state projected on its first principal components",
                           "units": UNITS}),
    }
    return xr.Dataset(variables, coords={
        "exponent": ("exponent", np.arange(1, exponents.shape[1] + 1), {"long_name": "exponent index", "units": "1"}),
        "fnn_dim": ("fnn_dim", np.asarray(takens["fnn_dims"]), {"long_name": "embedding dimension", "units": "1"}),
        "intrinsic_index": ("intrinsic_index", np.arange(1, 4), {"long_name": "intrinsic exponent index",
                                                                  "units": "1"}),
    }, attrs={"title": f"Closed-loop analysis of a trained network on Lorenz "
                       f"{'x' if setting == 'scalar' else '(x, y, z)'}", "dt": dt, "setting": setting,
              "state_size": int(model.state_size), "n_qr": spectrum.n_qr})


def full_state_variables(generated: np.ndarray, truth: np.ndarray, takens: dict[str, Any],
                         rng: np.random.Generator) -> dict[str, tuple]:
    """The full setting's extra numbers: topology and D2 of the generated (x, y, z) cloud, and
    D_stsp and D_H of the generated full state (N, T, 3) against the z-scored truth under each
    published preset."""
    variables = {}
    if np.all(np.isfinite(generated)) and np.ptp(generated[0], axis=0).min() > 0:
        topo = cloud_topology(state_cloud(generated, takens["cloud_stride"]), takens, rng)
        variables.update(topology_variables("generated", "generated (x, y, z) cloud", topo))
    for preset in PRESETS:
        variables[f"d_stsp_{preset.name}"] = ((), float(state_space_divergence(generated, truth, preset)), {
            "long_name": f"D_stsp of the generated full state, {preset.name} settings", "units": "nat",
            "settings": preset.describe()})
        variables[f"d_h_{preset.name}"] = ((), float(power_spectrum_distance(generated, truth, preset)), {
            "long_name": f"D_H of the generated full state, {preset.name} settings", "units": "1",
            "settings": preset.describe()})
    return variables


def _safe_fnn(x: np.ndarray, lag: int, cfg: dict[str, Any]) -> np.ndarray:
    """FNN fractions, NaN for a series without spread (a network collapsed onto a fixed point)."""
    if not np.all(np.isfinite(x)) or np.ptp(x[: cfg["fnn_trajectories"]], axis=1).min() == 0:
        return np.full(len(cfg["fnn_dims"]), np.nan)
    return fnn_fractions(x, lag, cfg)


def _safe_nolds(x: np.ndarray, lag: int, cfg: dict[str, Any]) -> np.ndarray:
    """nolds' D2 per series (:func:`nolds_d2`), NaN for a series without spread or not finite."""
    series = x[: cfg["nolds_series"]]
    spread = np.all(np.isfinite(series), axis=1) & (np.ptp(series, axis=1) > 0)
    d2 = np.full(len(series), np.nan)
    if spread.any():
        d2[spread] = nolds_d2(series[spread], lag, cfg)
    return d2


def _intrinsic_mask(spectra: NetworkSpectra, size: int) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    if spectra.split is not None:
        mask[spectra.split.intrinsic] = True
    return mask


def _intrinsic_kaplan_yorke(spectra: NetworkSpectra) -> float:
    if spectra.split is None or spectra.split.intrinsic.size == 0:
        return float("nan")
    return float(kaplan_yorke_dimension(spectra.closed.exponents.mean(axis=0)[spectra.split.intrinsic]))
