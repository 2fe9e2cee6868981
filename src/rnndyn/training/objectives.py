"""What a training step minimises: the loss of one batch under each training mode.

- ``"teacher"``: one-step-ahead prediction, the model driven by the data;
- ``"sparse_tf"``: sparse teacher forcing (Mikhaeil, Monfared & Durstewitz 2022, NeurIPS, "On the
  difficulty of learning chaotic dynamics with RNNs"): the model runs on its own outputs and the
  data are re-injected as input every ``tf_interval`` steps (interval 1 is teacher forcing);
- ``"rollout"``: a teacher-forced warm-up, then a closed-loop prediction over
  ``rollout_horizon`` steps, on which the loss is taken.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.nn.utils import parametrize

from rnndyn.models import RecurrentModel, closed_loop
from rnndyn.training.config import TrainConfig


def loss(config: TrainConfig, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean ``config.loss`` of ``outputs`` against ``targets`` (scalar tensor).

    Parameters
    ----------
    config : TrainConfig
        ``"mse"``, or ``"cross_entropy"`` on class logits in the last dim of ``outputs``.
    outputs : Tensor, shape (B, T, output_size)
    targets : Tensor
        Same shape as ``outputs``; for ``"cross_entropy"`` class indices (B, T) (``-100``
        ignored) or class probabilities (B, T, C).
    """
    if config.loss == "mse":
        return F.mse_loss(outputs, targets)
    classes = outputs.shape[-1]
    logits = outputs.reshape(-1, classes)
    if targets.is_floating_point():
        return F.cross_entropy(logits, targets.reshape(-1, classes))
    return F.cross_entropy(logits, targets.reshape(-1))


def sparse_teacher_forcing(
    model: RecurrentModel, inputs: torch.Tensor, interval: int
) -> torch.Tensor:
    """Outputs of a run on the model's own predictions with the data re-injected every
    ``interval`` steps (Mikhaeil, Monfared & Durstewitz 2022).

    The input at step t is ``inputs[:, t]`` when ``t % interval == 0`` and the previous output
    otherwise; the state is carried throughout. ``interval = 1`` is teacher forcing.

    Parameters
    ----------
    model : RecurrentModel
        With ``output_size == input_size``.
    inputs : Tensor, shape (B, T, input_size)
    interval : int
        tau >= 1, in steps.

    Returns
    -------
    Tensor, shape (B, T, output_size)

    References
    ----------
    Mikhaeil, J. M., Monfared, Z. & Durstewitz, D. (2022). On the difficulty of learning chaotic
    dynamics with RNNs. Advances in Neural Information Processing Systems 35 (NeurIPS 2022).
    """
    state = model.initial_state(inputs.shape[0])
    outputs: list[torch.Tensor] = []
    with parametrize.cached():
        for t in range(inputs.shape[1]):
            x_t = inputs[:, t] if t % interval == 0 else outputs[-1]
            state = model.step(x_t, state)
            outputs.append(model.readout(state))
    return torch.stack(outputs, dim=1)


def objective(
    model: RecurrentModel, inputs: torch.Tensor, targets: torch.Tensor, config: TrainConfig
) -> torch.Tensor:
    """Mean loss of one batch under ``config.mode`` and ``config.loss`` (scalar tensor).

    Parameters
    ----------
    model : RecurrentModel
    inputs : Tensor, shape (B, T, input_size)
    targets : Tensor, shape (B, T, output_size), or (B, T) class indices
        ``"rollout"`` scores only the last ``rollout_horizon`` steps, predicted in closed loop
        after a teacher-forced warm-up on ``inputs[:, :T - rollout_horizon + 1]``.
    config : TrainConfig
    """
    # One cached evaluation of any parametrised weight per batch, never across optimiser steps.
    with parametrize.cached():
        if config.mode == "teacher":
            return loss(config, model.outputs(inputs), targets)
        if config.mode == "sparse_tf":
            return loss(config, sparse_teacher_forcing(model, inputs, config.tf_interval), targets)
        horizon, length = config.rollout_horizon, inputs.shape[1]
        predictions, _ = closed_loop(model, inputs[:, : length - horizon + 1], horizon)
        return loss(config, predictions, targets[:, length - horizon :])
