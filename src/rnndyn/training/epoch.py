"""One epoch of training: minibatch optimiser steps, then the validation loss.

Metrics accumulate on the device and are read once per epoch (:func:`run_epoch`), so a
CUDA run makes no host round trip inside an epoch.
"""

from __future__ import annotations

import math
import time

import torch

from rnndyn.models import RecurrentModel
from rnndyn.training.config import TrainConfig
from rnndyn.training.data import TrainingData
from rnndyn.training.forcing import AdaptiveAlpha
from rnndyn.training.objectives import objective
from rnndyn.training.state import TrainingState


def evaluate(
    model: RecurrentModel,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    config: TrainConfig,
    forcing: AdaptiveAlpha | None = None,
) -> torch.Tensor:
    """Sequence-weighted mean :func:`~rnndyn.training.objectives.objective` over a dataset, in
    batches of ``config.batch_size``, without gradients (float64 tensor on the device).

    With adaptive generalized teacher forcing, ``forcing`` holds the alpha to evaluate at."""
    model.eval()
    alpha = None if forcing is None else forcing.value
    total = inputs.new_zeros((), dtype=torch.float64)
    with torch.no_grad():
        for start in range(0, inputs.shape[0], config.batch_size):
            stop = min(start + config.batch_size, inputs.shape[0])
            loss = objective(model, inputs[start:stop], targets[start:stop], config, alpha)
            total += loss.double() * (stop - start)
    return total / inputs.shape[0]


def train_epoch(
    model: RecurrentModel,
    optimizer: torch.optim.Optimizer,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    order: torch.Tensor,
    config: TrainConfig,
    forcing: AdaptiveAlpha | None = None,
    first_step: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass in minibatches of ``order``, clipping the gradient norm to ``config.grad_clip``.

    With adaptive generalized teacher forcing, ``forcing`` re-estimates alpha on the batch
    before the steps it is due (``first_step`` numbers this epoch's first step within the run).

    Returns
    -------
    loss, grad_norm : Tensor
        The sequence-weighted mean loss and the mean gradient norm before clipping, as float64
        device tensors (no host synchronisation).
    """
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    loss_sum = torch.zeros((), dtype=torch.float64, device=inputs.device)
    norm_sum = torch.zeros((), dtype=torch.float64, device=inputs.device)
    batches = order.split(config.batch_size)
    for index, batch in enumerate(batches):
        batch_inputs = inputs[batch]
        alpha = None
        if forcing is not None:
            forcing.before_step(first_step + index, model, batch_inputs)
            alpha = forcing.value
        optimizer.zero_grad(set_to_none=True)
        loss = objective(model, batch_inputs, targets[batch], config, alpha)
        loss.backward()
        if config.grad_clip is None:
            norm = torch.nn.utils.get_total_norm([p.grad for p in parameters if p.grad is not None])
        else:
            norm = torch.nn.utils.clip_grad_norm_(parameters, config.grad_clip)
        optimizer.step()
        loss_sum += loss.detach().double() * batch.shape[0]
        norm_sum += norm.double()
    return loss_sum / order.shape[0], norm_sum / len(batches)


def run_epoch(
    state: TrainingState, data: TrainingData, config: TrainConfig
) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """Train ``state`` for one epoch, step its scheduler, validate, and record the epoch.

    The minibatch order is a permutation drawn from ``state.generator``.

    Returns
    -------
    record : dict of str to float
        The epoch's entry of every field of ``state.history``
        (already appended to ``state.history``); ``val_loss`` is NaN without validation data.
    last_finite : dict of str to Tensor
        The weights at the start of the epoch (to restore should it have diverged).
    """
    started = time.perf_counter()
    last_finite = state.snapshot()
    lr = state.lr
    n_sequences = data.inputs.shape[0]
    order = torch.randperm(n_sequences, generator=state.generator).to(data.device)
    state.model.train()
    steps = math.ceil(n_sequences / config.batch_size)
    train_loss, grad_norm = train_epoch(
        state.model,
        state.optimizer,
        data.inputs,
        data.targets,
        order,
        config,
        state.forcing,
        first_step=state.epoch * steps,
    )
    if state.scheduler is not None:
        state.scheduler.step()
    val_loss = (
        evaluate(state.model, data.val_inputs, data.val_targets, config, state.forcing)
        if data.has_validation
        else torch.full((), math.nan, dtype=torch.float64, device=data.device)
    )
    metrics = [train_loss, grad_norm, val_loss]
    if state.forcing is not None:
        metrics.append(state.forcing.value)
    # The one host synchronisation of the epoch.
    train_loss, grad_norm, val, *alpha = torch.stack(metrics).tolist()
    seconds = time.perf_counter() - started
    record = {
        "loss": train_loss,
        "val_loss": val,
        "grad_norm": grad_norm,
        "lr": lr,
        "steps_per_s": steps / seconds,
        "seconds": seconds,
    }
    if config.mode == "gtf":
        record["gtf_alpha"] = alpha[0] if alpha else float(config.gtf_alpha)
    state.record(record)
    return record, last_finite
