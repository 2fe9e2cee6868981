"""Closed-loop (autonomous) rollout: the model's prediction is fed back as its next input."""

from __future__ import annotations

import torch
from torch.nn.utils import parametrize

from rnndyn.models.base import RecurrentModel


def closed_loop(
    model: RecurrentModel, warmup_inputs: torch.Tensor, n_steps: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher-forced warm-up followed by ``n_steps`` autonomous predictions.

    The warm-up drives the model with data; from then on each prediction becomes the next input:
    ``predictions[:, k] = readout(states[:, k])`` and
    ``states[:, k + 1] = step(predictions[:, k], states[:, k])``, with ``states[:, 0]`` the state
    after the last warm-up input (so ``predictions[:, 0]`` predicts the input following the
    warm-up). Everything stays on the model's device: no host round trip per step. Gradients
    flow through the whole rollout.

    Parameters
    ----------
    model : RecurrentModel
        With ``output_size == input_size``.
    warmup_inputs : Tensor, shape (B, Tw, input_size), Tw >= 1
    n_steps : int
        Number of predictions, >= 1.

    Returns
    -------
    predictions : Tensor, shape (B, n_steps, output_size)
    states : Tensor, shape (B, n_steps, state_size)
    """
    if model.output_size != model.input_size:
        raise ValueError(
            "closed loop needs output_size == input_size, "
            f"got {model.output_size} != {model.input_size}"
        )
    if warmup_inputs.shape[1] < 1 or n_steps < 1:
        raise ValueError("closed loop needs at least one warm-up input and one step")
    with parametrize.cached():
        _, warmup_states = model(warmup_inputs)
        state = warmup_states[:, -1]
        predictions, states = [], []
        for k in range(n_steps):
            prediction = model.readout(state)
            predictions.append(prediction)
            states.append(state)
            if k + 1 < n_steps:
                state = model.step(prediction, state)
    return torch.stack(predictions, dim=1), torch.stack(states, dim=1)
