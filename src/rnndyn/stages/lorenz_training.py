"""Training of the Lorenz stage: predict x(t+1) from x(≤t), in phases, with the shared trainer.

A run is a sequence of phases, each one call of :func:`rnndyn.training.train` with its own
objective, windows and schedule, for instance one-step teacher forcing with noisy inputs followed
by a closed-loop rollout loss (or sparse teacher forcing, Mikhaeil, Monfared & Durstewitz 2022).
Input noise turns one-step prediction into denoising: the network must pull a perturbed input
back towards the data, which keeps its own closed loop near the attractor (without it, one-step
training at dt = 0.01 gives networks whose autonomous error grows far faster than Lorenz's).

Each phase checkpoints to its own file, so a preempted run resumes inside the phase it was in and
skips the completed ones (the trainer returns at once from a completed checkpoint). A phase that
diverges ends the run: the weights are those after the last finite epoch and the status says
``diverged``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

from rnndyn.models import RecurrentModel, build_model
from rnndyn.seeding import derive_seed, torch_generator
from rnndyn.models.parameters import load_model_parameters, model_parameters
from rnndyn.stages.lorenz_data import prediction_windows
from rnndyn.training import train

WINDOW_KEYS = ("sequence_length", "stride", "input_noise")


def model_label(arch: str, hidden: int, seed: int) -> str:
    """The name of one trained network, e.g. ``gru_h32_s0`` (also its file stem)."""
    return f"{arch}_h{hidden}_s{seed}"


def checkpoint_paths(directory: str | Path, label: str, n_phases: int) -> list[Path]:
    """One checkpoint file per phase, ``<directory>/<label>.phase<k>.pt``."""
    return [Path(directory) / f"{label}.phase{k}.pt" for k in range(n_phases)]


def build_lorenz_model(arch: str, hidden: int, generator: torch.Generator) -> RecurrentModel:
    """A scalar-in, scalar-out network of family ``arch`` (float32)."""
    return build_model(arch, input_size=1, hidden_size=hidden, output_size=1, generator=generator)


def train_lorenz(
    data: xr.Dataset,
    *,
    arch: str,
    hidden: int,
    seed: int,
    cfg: dict[str, Any],
    base_seed: int,
    device: str | torch.device,
    checkpoint_dir: str | Path | None,
    log: logging.Logger,
) -> tuple[RecurrentModel, xr.Dataset]:
    """Train one network on the data rule's training split (validated on its validation split).

    Parameters
    ----------
    data
        The data rule's dataset (:func:`rnndyn.stages.lorenz_data.simulate_splits`).
    arch, hidden, seed
        Family, hidden size and replicate index (the job's wildcards).
    cfg
        The ``lorenz.training`` config section (its ``phases`` list is used).
    base_seed
        The config's ``seed``; initialisation, input noise and minibatch order draw from streams
        derived from it and the wildcards.
    device
        Where to train (see :func:`rnndyn.training.select_device`).
    checkpoint_dir
        Folder of the per-phase checkpoints; ``None`` trains without checkpoints.
    log
        Receives the trainer's line per epoch.

    Returns
    -------
    model
        The trained network, on the CPU.
    result
        Its parameters and its training history (:func:`model_dataset`).
    """
    phases = cfg["phases"]
    if any(phase["input_noise"] > 0 and phase["mode"] != "teacher" for phase in phases):
        raise ValueError("input noise needs mode 'teacher': the other modes need targets equal to the shifted inputs")
    keys = ("lorenz", arch, hidden, seed)
    model = build_lorenz_model(arch, hidden, torch_generator(base_seed, *keys, "init"))
    x_train, x_val = data["x_train"].values, data["x_val"].values
    paths = checkpoint_paths(checkpoint_dir, model_label(arch, hidden, seed), len(phases)) \
        if checkpoint_dir is not None else [None] * len(phases)
    histories, status, modes = [], "completed", []
    for k, phase in enumerate(phases):
        train_config = {key: value for key, value in phase.items() if key not in WINDOW_KEYS}
        inputs, targets = prediction_windows(x_train, phase["sequence_length"], phase["stride"])
        if phase["input_noise"] > 0:
            noise = torch.randn(inputs.shape, generator=torch_generator(base_seed, *keys, "input-noise", k))
            inputs = inputs + phase["input_noise"] * noise
        val = prediction_windows(x_val, phase["sequence_length"], phase["stride"])
        log.info("phase %d (%s): %d training windows of %d steps, input noise %g",
                 k, train_config["mode"], inputs.shape[0], inputs.shape[1], phase["input_noise"])
        result = train(model, (inputs, targets), val, config=train_config,
                       seed=derive_seed(base_seed, *keys, "batches", k), device=device,
                       checkpoint_path=paths[k], log=log)
        histories.append(result.history.assign(phase=("epoch", np.full(result.history.sizes["epoch"], k))))
        modes.append(train_config["mode"])
        if result.status != "completed":
            status = result.status
            log.warning("phase %d ended with status %s: later phases skipped", k, status)
            break
    model.to("cpu")
    return model, model_dataset(model, histories, arch=arch, hidden=hidden, seed=seed, status=status,
                                modes=modes, device=str(result.device))


def model_dataset(
    model: RecurrentModel, histories: list[xr.Dataset], *, arch: str, hidden: int, seed: int,
    status: str, modes: list[str], device: str,
) -> xr.Dataset:
    """Parameters and training history of a network as one dataset.

    Parameters as in :func:`rnndyn.models.parameters.model_parameters`; the per-phase histories are
    concatenated along ``epoch`` (renumbered 1..N) with a ``phase`` variable. Their timings keep the
    trainer's ``wall_clock`` mark, so :func:`rnndyn.store.array_digest` leaves them out.
    """
    history = xr.concat(histories, dim="epoch")
    history = history.assign_coords(epoch=np.arange(1, history.sizes["epoch"] + 1))
    history["epoch"].attrs = {"long_name": "epoch, counted over all phases (1-based)", "units": "1"}
    history["phase"].attrs = {"long_name": "training phase of the epoch (0-based)", "units": "1"}
    ds = xr.merge([model_parameters(model), history])
    ds.attrs = {"title": f"Trained {arch} network (hidden {hidden}, seed {seed}) predicting Lorenz x",
                "arch": arch, "hidden_size": hidden, "seed_index": seed, "status": status,
                "phase_modes": modes, "device": device}
    return ds


def load_lorenz_model(ds: xr.Dataset, dtype: torch.dtype = torch.float64) -> RecurrentModel:
    """Rebuild a network stored by :func:`model_dataset` (on the CPU, in ``dtype``)."""
    model = build_lorenz_model(ds.attrs["arch"], int(ds.attrs["hidden_size"]), torch.Generator())
    return load_model_parameters(model, ds).to(dtype).eval()
