"""One network built and trained from a job's random streams, returned as its trained-network store."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

import torch
import xarray as xr

from rnndyn.models import build_model
from rnndyn.models.trained import network_store
from rnndyn.seeding import Streams
from rnndyn.training.loop import train


def train_network(
    arch: str,
    arguments: Mapping[str, Any],
    train_data: tuple[torch.Tensor, torch.Tensor],
    val_data: tuple[torch.Tensor, torch.Tensor],
    *,
    config: Mapping[str, Any],
    streams: Streams,
    identity: Mapping[str, Any],
    title: str,
    device: str | torch.device,
    checkpoint_path: str | Path | None,
    log: logging.Logger,
) -> xr.Dataset:
    """Build ``arch`` with its initial weights from the stream ``init``, train it (minibatch order
    from the stream ``batches``) and return its :func:`~rnndyn.models.trained.network_store`.

    Parameters
    ----------
    arch, arguments
        The family and its :func:`~rnndyn.models.build_model` arguments (sizes, family options).
    train_data, val_data
        ``(inputs, targets)`` of the training and validation splits.
    config
        The :class:`~rnndyn.training.TrainConfig` settings.
    streams
        The job's random streams.
    identity, title
        What the network is (stage, arch, replicate, setting) and a sentence for the store.
    checkpoint_path
        Resumed from when present; a preempted run exits with status 75 and keeps it.
    """
    model = build_model(arch, generator=streams.torch("init"), **arguments)
    result = train(model, train_data, val_data, config=config, seed=streams.torch("batches"), device=device,
                   checkpoint_path=checkpoint_path, log=log)
    log.info("status %s after %d epochs, validation loss %.5g", result.status, result.epochs_run,
             result.final_val_loss)
    return network_store(model, result.history, build={"arch": arch, **arguments}, identity=dict(identity),
                         status=result.status, device=result.device, title=title)
