"""Data of the Lorenz stage: RK4 trajectories, splits, the standardised observable x(t).

Every split starts from its own random initial conditions (the job's stream
``("initial-states", split)``), is integrated by batched RK4 past a transient and keeps the full state (x, y, z)
for evaluation. In the scalar setting the network sees only the observable x, standardised with the
mean and standard deviation of the training split (optionally with Gaussian observation noise
first, the stream ``("observation-noise", split)``); in the full setting it sees (x, y, z), each
component standardised with the training split's mean and standard deviation (x with the same noise
as the scalar setting's; y and z draw theirs from ``("observation-noise-yz", split)``, only when
there is noise).

Splits
------
- ``train``, ``val``: the training and validation sequences;
- ``test``: many short trajectories, a warm-up followed by the forecast horizon of the valid
  prediction time;
- ``attractor``, ``floor``: two independent sets of long trajectories; the first is the truth the
  free-running model's attractor is compared with, the second gives the floor of the
  reconstruction metrics (two true trajectories of the same length);
- ``drive``: a few very long trajectories that drive each network open loop for its conditional
  Lyapunov spectrum (:mod:`rnndyn.analysis.network_lyapunov`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from rnndyn.systems.lorenz import BETA, RHO, SIGMA, integrate_lorenz, lorenz_initial_states

if TYPE_CHECKING:
    from rnndyn.jobs import Job
    from rnndyn.seeding import Streams

SPLITS = ("train", "val", "test", "attractor", "floor", "drive")
COMPONENTS = ("x", "y", "z")
SETTINGS = ("scalar", "full")
"""Observation settings: the network sees and predicts x (scalar) or (x, y, z) (full)."""


def data_job(job: Job) -> None:
    """Rule ``lorenz_data``: :func:`simulate_splits` with the job's config and streams."""
    data = simulate_splits(job.config, job.streams)
    job.log.info("splits %s; training mean %.4f, std %.4f of x",
                 {s: data[f"x_{s}"].shape for s in SPLITS}, float(data["x_mean"]), float(data["x_std"]))
    job.write(data)


def split_shapes(cfg: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """``{split: (n_trajectories, n_steps)}`` from the ``lorenz.data`` config section.

    ``n_steps`` counts steps after the first kept state (a trajectory has ``n_steps + 1`` samples).
    """
    long_steps = cfg["warmup_steps"] + cfg["attractor_steps"]
    return {
        "train": (cfg["n_train"], cfg["train_steps"]),
        "val": (cfg["n_val"], cfg["train_steps"]),
        "test": (cfg["n_test"], cfg["warmup_steps"] + cfg["horizon_steps"]),
        "attractor": (cfg["n_attractor"], long_steps),
        "floor": (cfg["n_attractor"], long_steps),
        "drive": (cfg["n_drive"], cfg["drive_steps"]),
    }


def simulate_splits(cfg: dict[str, Any], streams: Streams) -> xr.Dataset:
    """Integrate every split and build the observable (the data rule).

    Parameters
    ----------
    cfg
        The ``lorenz.data`` config section.
    streams
        The job's streams (keyed ``("lorenz", ...)``); each split draws its initial conditions
        from ``("initial-states", split)`` and its observation noise from
        ``("observation-noise", split)``.

    Returns
    -------
    xarray.Dataset
        Per split ``s``: ``state_s`` (``s_trajectory``, ``s_step``, ``component``) the true state,
        ``x_s`` (``s_trajectory``, ``s_step``) the observed, standardised x; scalars ``x_mean`` and
        ``x_std`` (the training split's statistics of the observed x, in Lorenz units). Attribute
        ``dt`` (time units per step).
    """
    dt = cfg["dt"]
    states = {}
    for split, (n_traj, n_steps) in split_shapes(cfg).items():
        initial = lorenz_initial_states(streams.numpy("initial-states", split), n_traj)
        states[split] = integrate_lorenz(initial, dt=dt, n_steps=n_steps, n_transient=cfg["transient_steps"])
    # Noise is in units of the clean training signal's standard deviation, so it is a fraction of
    # the signal whatever the system's scale.
    noise_scale = cfg["observation_noise"] * states["train"][..., 0].std()
    observed = {
        split: state[..., 0] + noise_scale * streams.numpy(
            "observation-noise", split).standard_normal(state.shape[:2])
        for split, state in states.items()
    }
    full = {split: state.copy() for split, state in states.items()}
    for split in full:
        full[split][..., 0] = observed[split]
        if cfg["observation_noise"] > 0:
            yz_scale = cfg["observation_noise"] * states["train"][..., 1:].std(axis=(0, 1))
            full[split][..., 1:] += yz_scale * streams.numpy("observation-noise-yz", split).standard_normal(
                (*state_shape(states[split]), 2))
    full_mean, full_std = full["train"].mean(axis=(0, 1)), full["train"].std(axis=(0, 1))
    mean, std = observed["train"].mean(), observed["train"].std()
    # Object (variable-length) strings: Zarr 3 has no stable specification of fixed-length ones.
    data, coords = {}, {"component": ("component", np.array(COMPONENTS, dtype=object),
                                      {"long_name": "state component"})}
    for split, state in states.items():
        traj, step = f"{split}_trajectory", f"{split}_step"
        data[f"state_{split}"] = ((traj, step, "component"), state,
                                  {"long_name": f"true Lorenz-63 state ({split} split)", "units": "1"})
        data[f"x_{split}"] = ((traj, step), (observed[split] - mean) / std,
                              {"long_name": f"observed x, standardised with training statistics ({split} split)",
                               "units": "1"})
        data[f"u_{split}"] = ((traj, step, "component"), (full[split] - full_mean) / full_std,
                              {"long_name": f"observed (x, y, z), each standardised with training statistics "
                                            f"({split} split)", "units": "1"})
        coords[traj] = (traj, np.arange(state.shape[0]), {"long_name": "trajectory index", "units": "1"})
        coords[step] = (step, np.arange(state.shape[1]), {"long_name": "time step", "units": "1"})
    data["x_mean"] = ((), mean, {"long_name": "mean of the observed x over the training split", "units": "1"})
    data["x_std"] = ((), std, {"long_name": "standard deviation of the observed x over the training split",
                               "units": "1"})
    data["u_mean"] = (("component",), full_mean,
                      {"long_name": "mean of each observed component over the training split", "units": "1"})
    data["u_std"] = (("component",), full_std, {"long_name": "standard deviation of each observed component "
                                                             "over the training split", "units": "1"})
    return xr.Dataset(data, coords=coords, attrs={
        "title": "Lorenz-63 trajectories (RK4) and the standardised observable x",
        "dt": dt, "sigma": SIGMA, "rho": RHO, "beta": BETA,
        "transient_steps": cfg["transient_steps"], "observation_noise": cfg["observation_noise"],
        "warmup_steps": cfg["warmup_steps"],
    })


def state_shape(state: np.ndarray) -> tuple[int, int]:
    """(trajectories, steps) of a split's states."""
    return state.shape[0], state.shape[1]


def observed(data: xr.Dataset, split: str, setting: str) -> np.ndarray:
    """What the network of ``setting`` sees of a split, standardised: (trajectories, steps, d), d = 1 or 3."""
    if setting == "scalar":
        return data[f"x_{split}"].values[..., None]
    if setting == "full":
        return data[f"u_{split}"].values
    raise ValueError(f"unknown setting {setting!r}; choose one of {SETTINGS}")


def clean(data: xr.Dataset, split: str, setting: str) -> np.ndarray:
    """The clean counterpart of :func:`observed` (no observation noise): (trajectories, steps, d)."""
    if setting == "scalar":
        return true_x(data, split)[..., None]
    if setting == "full":
        return (data[f"state_{split}"].values - data["u_mean"].values) / data["u_std"].values
    raise ValueError(f"unknown setting {setting!r}; choose one of {SETTINGS}")


def true_x(data: xr.Dataset, split: str) -> np.ndarray:
    """The clean x of a split, standardised with the training statistics: (trajectories, steps)."""
    return (data[f"state_{split}"].sel(component="x").values - float(data["x_mean"])) / float(data["x_std"])


def forecast_windows(data: xr.Dataset, split: str, horizon: int,
                     setting: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Warm-up inputs (M, W) (observed x) and truths (M, horizon) (clean x) of a split.

    The test split holds one window per trajectory; longer splits are cut into consecutive
    non-overlapping windows of ``W + horizon`` samples (``W`` the data's ``warmup_steps``). With a
    ``setting``, the observations of that setting instead, (M, W, d) and (M, horizon, d).
    """
    warmup = int(data.attrs["warmup_steps"])
    if setting is None:
        seen, truth = data[f"x_{split}"].values, true_x(data, split)
    else:
        seen, truth = observed(data, split, setting), clean(data, split, setting)
    seen, truth = _windows(seen, warmup + horizon), _windows(truth, warmup + horizon)
    return seen[:, :warmup], truth[:, warmup:]


def _windows(x: np.ndarray, length: int) -> np.ndarray:
    """Consecutive non-overlapping windows of ``length`` samples of each series (N, T, ...) -> (M, length, ...)."""
    n = x.shape[1] // length
    return x[:, : n * length].reshape(x.shape[0] * n, length, *x.shape[2:])


def forecast_horizon(data: xr.Dataset) -> int:
    """Closed-loop steps scored by the valid prediction time: the test split after its warm-up."""
    return data.sizes["test_step"] - 1 - int(data.attrs["warmup_steps"])


def attractor_window(data: xr.Dataset) -> tuple[slice, int]:
    """The samples after the warm-up of the attractor/floor splits, and their number T."""
    warmup = int(data.attrs["warmup_steps"])
    n = data.sizes["attractor_step"] - 1 - warmup
    return slice(warmup, warmup + n), n
