"""The one store of a trained network, for every stage that trains (kalman, flipflop, taming, lorenz).

A trained network's store holds its parameters (:func:`rnndyn.models.parameters.model_parameters`),
its per-epoch training history, and in its attributes everything needed to rebuild and place it:

- ``build``: the :func:`rnndyn.models.build_model` arguments (``arch``, sizes, family options);
- ``identity``: the stage, ``arch``, ``replicate`` and the setting it was trained in (a system, a
  delay, a hidden size...), so that an analysis never rejoins networks by list position;
- the outcome: ``status``, ``epochs_run``, ``diverged_epoch`` (-1 if none), ``final_loss``,
  ``final_val_loss`` and the training ``device``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

# torch is imported where a network is built or stored, not at the top: the jobs that only read a
# store's identity (summaries, claims, figures) need none of it.
if TYPE_CHECKING:
    import torch

    from rnndyn.models.base import RecurrentModel

BUILD_KEYS = ("arch", "input_size", "hidden_size", "output_size")


def network_store(model: torch.nn.Module, history: xr.Dataset, *, build: dict[str, Any],
                  identity: dict[str, Any], status: str, device: str, title: str = "") -> xr.Dataset:
    """A trained network as one dataset: parameters, history and attributes (see the module docstring).

    Parameters
    ----------
    model
        The trained network.
    history
        Per-epoch training history on dim ``epoch`` (at least ``loss`` and ``val_loss``); its
        timings keep the trainer's ``wall_clock`` mark.
    build
        ``arch``, ``input_size``, ``hidden_size``, ``output_size`` and any family options.
    identity
        ``stage``, ``arch``, ``replicate`` and the setting's keys.
    status
        ``"completed"``, ``"diverged"`` or ``"incomplete"``.
    device
        Where it was trained.
    title
        A sentence for the store's ``title``.
    """
    from rnndyn.models.parameters import model_parameters

    missing = [key for key in BUILD_KEYS if key not in build] + \
        [key for key in ("stage", "arch", "replicate") if key not in identity]
    if missing:
        raise ValueError(f"network_store: missing {missing}")
    loss = history["loss"].values
    non_finite = np.flatnonzero(~np.isfinite(loss))
    return xr.merge([model_parameters(model), history]).assign_attrs(
        title=title, build=dict(build), identity=dict(identity), status=status,
        epochs_run=int(history.sizes["epoch"]),
        diverged_epoch=int(history["epoch"].values[non_finite[0]]) if non_finite.size else -1,
        final_loss=_last(history, "loss"), final_val_loss=_last(history, "val_loss"), device=device)


def _last(history: xr.Dataset, name: str) -> float:
    return float(history[name].values[-1]) if history.sizes["epoch"] else math.nan


def load_network(ds: xr.Dataset, dtype: torch.dtype | None = None) -> RecurrentModel:
    """Rebuild the network of a :func:`network_store` (on the CPU, in ``dtype``, default float64, in eval mode)."""
    import torch

    from rnndyn.models.parameters import load_model_parameters
    from rnndyn.models.registry import build_model

    dtype = torch.float64 if dtype is None else dtype
    build = dict(ds.attrs["build"])
    arch = build.pop("arch")
    model = build_model(arch, generator=torch.Generator(), dtype=dtype, **build)
    return load_model_parameters(model, ds).eval()


def network_identity(ds: xr.Dataset) -> dict[str, Any]:
    """The ``identity`` attributes of a trained network's store."""
    return dict(ds.attrs["identity"])
