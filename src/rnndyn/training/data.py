"""Training and validation sequences: shape checks and the one move to the device."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnndyn.models import RecurrentModel
from rnndyn.training.config import TrainConfig


def check_data(
    model: RecurrentModel, inputs: torch.Tensor, targets: torch.Tensor, config: TrainConfig
) -> None:
    """Raise ``ValueError`` unless ``inputs`` and ``targets`` fit ``model`` and ``config``.

    Parameters
    ----------
    model : RecurrentModel
    inputs : Tensor, shape (N, T, input_size)
    targets : Tensor
        (N, T, output_size) for ``"mse"``; (N, T) class indices or (N, T, C) probabilities for
        ``"cross_entropy"``.
    config : TrainConfig
        Modes other than ``"teacher"`` need ``output_size == input_size``; ``"rollout"`` needs
        ``rollout_horizon <= T``.
    """
    if inputs.ndim != 3 or inputs.shape[-1] != model.input_size:
        raise ValueError(f"inputs must be (N, T, {model.input_size}), got {tuple(inputs.shape)}")
    n, length = inputs.shape[:2]
    if config.loss == "mse" and targets.shape != (n, length, model.output_size):
        raise ValueError(
            f"mse targets must be (N, T, {model.output_size}) = {(n, length, model.output_size)}, "
            f"got {tuple(targets.shape)}"
        )
    if config.loss == "cross_entropy" and targets.shape[:2] != (n, length):
        raise ValueError(f"cross-entropy targets must start with (N, T) = {(n, length)}")
    if config.mode != "teacher" and model.input_size != model.output_size:
        raise ValueError(f"mode {config.mode!r} needs output_size == input_size")
    if config.mode == "rollout" and config.rollout_horizon > length:
        raise ValueError(
            f"rollout_horizon {config.rollout_horizon} exceeds the sequence length {length}"
        )


@dataclass(frozen=True)
class TrainingData:
    """Checked training (and optional validation) sequences on the training device.

    Attributes
    ----------
    inputs, targets : Tensor
        Training pairs (see :func:`check_data`).
    val_inputs, val_targets : Tensor or None
        Validation pairs, ``None`` without validation data.
    device : torch.device
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    val_inputs: torch.Tensor | None
    val_targets: torch.Tensor | None
    device: torch.device

    @classmethod
    def on_device(
        cls,
        model: RecurrentModel,
        train_data: tuple[torch.Tensor, torch.Tensor],
        val_data: tuple[torch.Tensor, torch.Tensor] | None,
        config: TrainConfig,
        device: torch.device,
    ) -> TrainingData:
        """Move ``(inputs, targets)`` pairs to ``device`` and check them."""
        inputs, targets = (tensor.to(device) for tensor in train_data)
        check_data(model, inputs, targets, config)
        val_inputs = val_targets = None
        if val_data is not None:
            val_inputs, val_targets = (tensor.to(device) for tensor in val_data)
            check_data(model, val_inputs, val_targets, config)
        return cls(inputs, targets, val_inputs, val_targets, device)

    @property
    def has_validation(self) -> bool:
        """Whether validation data were given."""
        return self.val_inputs is not None
