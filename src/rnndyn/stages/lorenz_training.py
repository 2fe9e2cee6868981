"""Training of the Lorenz stage: predict x(t+1) from x(≤t), in phases, with the shared trainer.

A run is a sequence of phases, each one call of :func:`rnndyn.training.train` with its own
objective, windows and schedule, for instance one-step teacher forcing with noisy inputs followed
by a closed-loop rollout loss (or sparse teacher forcing, Mikhaeil, Monfared & Durstewitz 2022).
Input noise turns one-step prediction into denoising: the network must pull a perturbed input
back towards the data, which keeps its own closed loop near the attractor (without it, one-step
training at dt = 0.01 gives networks whose autonomous error grows far faster than Lorenz's).

Each phase checkpoints to its own file in the job's checkpoint folder, so a preempted run resumes inside the phase it was in and
skips the completed ones (the trainer returns at once from a completed checkpoint). A phase that
diverges ends the run: the weights are those after the last finite epoch and the status says
``diverged``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import xarray as xr

from rnndyn.models import RecurrentModel, build_model
from rnndyn.models.trained import network_store
from rnndyn.training import train

if TYPE_CHECKING:
    from rnndyn.jobs import Job
    from rnndyn.seeding import Streams

WINDOW_KEYS = ("sequence_length", "stride", "input_noise")


def train_job(job: Job) -> None:
    """Rule ``lorenz_train``: :func:`train_network` for the job's architecture, hidden size and replicate."""
    wc = job.wildcards
    # A preempted run raises TrainingInterrupted (exit status 75, checkpoints kept for the requeue).
    store = train_network(job.read(), wc["arch"], int(wc["hidden"]), int(wc["replicate"]), job.config, job.streams,
                          device=job.device, checkpoint_dir=job.checkpoint_dir, log=job.log)
    job.log.info("status %s after %d epochs, validation loss %.5g", store.attrs["status"], store.attrs["epochs_run"],
                 store.attrs["final_val_loss"])
    job.write(store, device=store.attrs["device"])


def checkpoint_paths(directory: str | Path, n_phases: int) -> list[Path]:
    """One checkpoint file per phase, ``<directory>/phase<k>.pt``."""
    return [Path(directory) / f"phase{k}.pt" for k in range(n_phases)]


def build_lorenz_model(arch: str, hidden: int, generator: torch.Generator) -> RecurrentModel:
    """A scalar-in, scalar-out network of family ``arch`` (float32)."""
    return build_model(arch, input_size=1, hidden_size=hidden, output_size=1, generator=generator)


def prediction_windows(x: np.ndarray, length: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One-step-ahead training pairs cut from a batch of series.

    Parameters
    ----------
    x
        Series (N, T).
    length
        Sequence length L of each window (the window spans L + 1 samples).
    stride
        Steps between the starts of consecutive windows of one series.

    Returns
    -------
    inputs, targets : torch.Tensor
        float32, (M, L, 1) each, ``targets[:, t] = inputs[:, t + 1]`` for t < L - 1 (the shift
        the sparse-teacher-forcing and rollout objectives need); windows ordered series-major.
    """
    if x.shape[1] < length + 1:
        raise ValueError(f"series of {x.shape[1]} samples too short for windows of {length} + 1")
    windows = np.lib.stride_tricks.sliding_window_view(x, length + 1, axis=1)[:, ::stride]
    windows = torch.from_numpy(windows.reshape(-1, length + 1).astype(np.float32))
    return windows[:, :-1, None].contiguous(), windows[:, 1:, None].contiguous()


def train_network(
    data: xr.Dataset,
    arch: str,
    hidden: int,
    replicate: int,
    cfg: dict[str, Any],
    streams: Streams,
    *,
    device: str | torch.device,
    checkpoint_dir: str | Path | None,
    log: logging.Logger,
) -> xr.Dataset:
    """Train one network on the data's training split (validated on its validation split).

    Parameters
    ----------
    data
        The data job's dataset (:func:`rnndyn.stages.lorenz_data.simulate_splits`).
    arch, hidden, replicate
        Family, hidden size and replicate index (the job's wildcards).
    cfg
        The training settings: ``phases``, a list of trainer configs with their windows
        (``sequence_length``, ``stride``, ``input_noise``).
    streams
        The job's streams: initialisation ``("init",)``, input noise ``("input-noise", k)`` and
        minibatch order ``("batches", k)`` of phase k.
    device
        Where to train.
    checkpoint_dir
        Folder of the per-phase checkpoints (:func:`checkpoint_paths`); ``None`` trains without.
    log
        Receives the trainer's line per epoch.

    Returns
    -------
    xarray.Dataset
        The network's store (:func:`rnndyn.models.trained.network_store`): parameters, the
        per-phase histories concatenated along ``epoch`` (numbered 1..N) with a ``phase``
        variable, identity ``(lorenz, arch, hidden, replicate)`` and the phases' modes.
    """
    phases = cfg["phases"]
    if any(phase["input_noise"] > 0 and phase["mode"] != "teacher" for phase in phases):
        raise ValueError("input noise needs mode 'teacher': the other modes need targets equal to the shifted inputs")
    model = build_lorenz_model(arch, hidden, streams.torch("init"))
    x_train, x_val = data["x_train"].values, data["x_val"].values
    paths = checkpoint_paths(checkpoint_dir, len(phases)) if checkpoint_dir is not None else [None] * len(phases)
    histories, status, modes = [], "completed", []
    for k, phase in enumerate(phases):
        train_config = {key: value for key, value in phase.items() if key not in WINDOW_KEYS}
        inputs, targets = prediction_windows(x_train, phase["sequence_length"], phase["stride"])
        if phase["input_noise"] > 0:
            noise = torch.randn(inputs.shape, generator=streams.torch("input-noise", k))
            inputs = inputs + phase["input_noise"] * noise
        val = prediction_windows(x_val, phase["sequence_length"], phase["stride"])
        log.info("phase %d (%s): %d training windows of %d steps, input noise %g",
                 k, train_config["mode"], inputs.shape[0], inputs.shape[1], phase["input_noise"])
        result = train(model, (inputs, targets), val, config=train_config, seed=streams.seed("batches", k),
                       device=device, checkpoint_path=paths[k], log=log)
        histories.append(result.history.assign(phase=("epoch", np.full(result.history.sizes["epoch"], k))))
        modes.append(train_config["mode"])
        if result.status != "completed":
            status = result.status
            log.warning("phase %d ended with status %s: later phases skipped", k, status)
            break
    model.to("cpu")
    history = xr.concat(histories, dim="epoch")
    history = history.assign_coords(epoch=np.arange(1, history.sizes["epoch"] + 1))
    history["epoch"].attrs = {"long_name": "epoch, counted over all phases (1-based)", "units": "1"}
    history["phase"].attrs = {"long_name": "training phase of the epoch (0-based)", "units": "1"}
    store = network_store(
        model, history, build={"arch": arch, "input_size": 1, "hidden_size": hidden, "output_size": 1},
        identity={"stage": "lorenz", "arch": arch, "hidden": hidden, "replicate": replicate},
        status=status, device=str(result.device),
        title=f"Trained {arch} network (hidden {hidden}, replicate {replicate}) predicting Lorenz x")
    return store.assign_attrs(phase_modes=modes)
