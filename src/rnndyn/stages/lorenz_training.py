"""Training of the Lorenz stage: predict the next observation from the past ones, in phases, with
the shared trainer. The observation is x (setting ``scalar``) or the standardised (x, y, z)
(setting ``full``, :func:`rnndyn.stages.lorenz_data.observed`); each family has its own recipe
(``lorenz.training.archs.<arch>``: family options and phases).

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
from rnndyn.stages.lorenz_data import observed
from rnndyn.training import train

if TYPE_CHECKING:
    from rnndyn.jobs import Job
    from rnndyn.seeding import Streams

WINDOW_KEYS = ("sequence_length", "stride", "input_noise")


def train_job(job: Job) -> None:
    """Rule ``lorenz_train``: :func:`train_network` for the job's setting, architecture, hidden size
    and replicate, with its architecture's recipe (``job.config``: ``options``, ``phases``)."""
    wc = job.wildcards
    # A preempted run raises TrainingInterrupted (exit status 75, checkpoints kept for the requeue).
    store = train_network(job.read(), wc["arch"], int(wc["hidden"]), int(wc["replicate"]), job.config, job.streams,
                          device=job.device, checkpoint_dir=job.checkpoint_dir, log=job.log, setting=wc["setting"])
    job.log.info("status %s after %d epochs, validation loss %.5g", store.attrs["status"], store.attrs["epochs_run"],
                 store.attrs["final_val_loss"])
    job.write(store, device=store.attrs["device"])


def checkpoint_paths(directory: str | Path, n_phases: int) -> list[Path]:
    """One checkpoint file per phase, ``<directory>/phase<k>.pt``."""
    return [Path(directory) / f"phase{k}.pt" for k in range(n_phases)]


def build_lorenz_model(arch: str, hidden: int, generator: torch.Generator, *, size: int = 1,
                       options: dict[str, Any] | None = None) -> RecurrentModel:
    """A network of family ``arch`` with ``size`` inputs and outputs (1: scalar, 3: full; float32)."""
    return build_model(arch, input_size=size, hidden_size=hidden, output_size=size, generator=generator,
                       **(options or {}))


def prediction_windows(x: np.ndarray, length: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One-step-ahead training pairs cut from a batch of series.

    Parameters
    ----------
    x
        Series (N, T) or (N, T, d).
    length
        Sequence length L of each window (the window spans L + 1 samples).
    stride
        Steps between the starts of consecutive windows of one series.

    Returns
    -------
    inputs, targets : torch.Tensor
        float32, (M, L, d) each (d = 1 for series (N, T)), ``targets[:, t] = inputs[:, t + 1]``
        for t < L - 1 (the shift the sparse-teacher-forcing, rollout and GTF objectives need);
        windows ordered series-major.
    """
    if x.shape[1] < length + 1:
        raise ValueError(f"series of {x.shape[1]} samples too short for windows of {length} + 1")
    x = x if x.ndim == 3 else x[..., None]
    # sliding_window_view puts the window axis last: (N, n_windows, d, L + 1) -> (M, L + 1, d).
    windows = np.lib.stride_tricks.sliding_window_view(x, length + 1, axis=1)[:, ::stride]
    windows = np.moveaxis(windows, -1, -2).reshape(-1, length + 1, x.shape[-1])
    windows = torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32))
    return windows[:, :-1].contiguous(), windows[:, 1:].contiguous()


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
    setting: str = "scalar",
) -> xr.Dataset:
    """Train one network on the data's training split (validated on its validation split).

    Parameters
    ----------
    data
        The data job's dataset (:func:`rnndyn.stages.lorenz_data.simulate_splits`).
    arch, hidden, replicate
        Family, hidden size and replicate index (the job's wildcards).
    cfg
        The architecture's recipe: ``phases``, a list of trainer configs with their windows
        (``sequence_length``, ``stride``, ``input_noise``), and optionally ``options`` (family
        options of :func:`rnndyn.models.build_model`).
    streams
        The job's streams: initialisation ``("init",)``, input noise ``("input-noise", k)`` and
        minibatch order ``("batches", k)`` of phase k.
    device
        Where to train.
    checkpoint_dir
        Folder of the per-phase checkpoints (:func:`checkpoint_paths`); ``None`` trains without.
    log
        Receives the trainer's line per epoch.
    setting
        ``"scalar"`` (x in, x out) or ``"full"`` ((x, y, z) in and out).

    Returns
    -------
    xarray.Dataset
        The network's store (:func:`rnndyn.models.trained.network_store`): parameters, the
        per-phase histories concatenated along ``epoch`` (numbered 1..N) with a ``phase``
        variable, identity ``(lorenz, setting, arch, hidden, replicate)`` and the phases' modes.
    """
    phases = cfg["phases"]
    if any(phase["input_noise"] > 0 and phase["mode"] != "teacher" for phase in phases):
        raise ValueError("input noise needs mode 'teacher': the other modes need targets equal to the shifted inputs")
    x_train, x_val = observed(data, "train", setting), observed(data, "val", setting)
    size = x_train.shape[-1]
    options = dict(cfg.get("options") or {})
    model = build_lorenz_model(arch, hidden, streams.torch("init"), size=size, options=options)
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
        model, history, build={"arch": arch, "input_size": size, "hidden_size": hidden, "output_size": size,
                               **options},
        identity={"stage": "lorenz", "setting": setting, "arch": arch, "hidden": hidden, "replicate": replicate},
        status=status, device=str(result.device),
        title=f"Trained {arch} network (hidden {hidden}, replicate {replicate}) predicting Lorenz "
              f"{'x' if setting == 'scalar' else '(x, y, z)'}")
    return store.assign_attrs(phase_modes=modes)
