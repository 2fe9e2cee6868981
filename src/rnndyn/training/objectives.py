"""What a training step minimises: the loss of one batch under each training mode.

- ``"teacher"``: one-step-ahead prediction, the model driven by the data;
- ``"sparse_tf"``: sparse teacher forcing (Mikhaeil, Monfared & Durstewitz 2022, NeurIPS, "On the
  difficulty of learning chaotic dynamics with RNNs"): the model runs on its own outputs and the
  data are re-injected as input every ``tf_interval`` steps (interval 1 is teacher forcing);
- ``"rollout"``: a teacher-forced warm-up, then a closed-loop prediction over
  ``rollout_horizon`` steps, on which the loss is taken;
- ``"gtf"``: generalized teacher forcing (Hess, Monfared, Brenner & Durstewitz 2023, ICML,
  "Generalized teacher forcing for learning chaotic dynamics"): every input is the interpolation
  ``alpha * data + (1 - alpha) * prediction`` (:func:`generalized_teacher_forcing`), alpha fixed
  or adaptive (:mod:`rnndyn.training.forcing`).

Forcing the inputs, not the latent state
----------------------------------------
In the papers the network is autonomous and the data force its latent state through the inverse
of the observation model: ``z~_t = (1 - alpha) z_t + alpha B^+ x_t`` (identity observation
model: the first ``N`` units are replaced by the data), then ``z_{t+1} = F(z~_t)``; sparse
teacher forcing replaces them (alpha = 1) every tau steps. In this study the data enter a
network as its inputs ``x_t`` and leave as its outputs ``y_t = readout(s_t)``, the prediction of
``x_{t+1}``; forcing therefore acts on the input: the input of step ``t`` is
``alpha x_t + (1 - alpha) y_{t-1}``, and sparse forcing feeds ``x_t`` every tau steps and
``y_{t-1}`` otherwise. Both forms agree at the ends (alpha = 1: the data drive every step, i.e.
teacher forcing; alpha = 0: the closed loop) and interpolate the same innovation ``x_t - y_{t-1}``
in between; they differ in where it enters (the state itself, or the input weights). The first
step has no prediction yet and takes the data (the papers start from the state inferred from the
first observation).
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


def generalized_teacher_forcing(
    model: RecurrentModel, inputs: torch.Tensor, alpha: float | torch.Tensor
) -> torch.Tensor:
    """Outputs of a run whose input at step t >= 1 is ``alpha * inputs[:, t] + (1 - alpha) *
    y_{t-1}``, ``y_{t-1}`` the previous output (Hess et al. 2023; module docstring).

    The first input is ``inputs[:, 0]``; the state is carried throughout. ``alpha = 1`` gives
    the step-by-step teacher-forced outputs exactly (``1 * x + 0 * y == x``), ``alpha = 0`` a
    closed-loop run from the first input exactly (sparse teacher forcing with an interval of at
    least ``T``). No gradient flows into ``alpha``.

    Parameters
    ----------
    model : RecurrentModel
        With ``output_size == input_size``.
    inputs : Tensor, shape (B, T, input_size)
    alpha : float or 0-dim Tensor
        In [0, 1]; a tensor (adaptive alpha) stays on the device, so no host read is needed.

    Returns
    -------
    Tensor, shape (B, T, output_size)

    References
    ----------
    Hess, F., Monfared, Z., Brenner, M. & Durstewitz, D. (2023). Generalized teacher forcing for
    learning chaotic dynamics. Proceedings of the 40th International Conference on Machine
    Learning (ICML), PMLR 202. Doya, K. (1992). Bifurcations in the learning of recurrent
    neural networks. IEEE ISCAS.
    """
    if isinstance(alpha, torch.Tensor):
        alpha = alpha.detach()
    state = model.initial_state(inputs.shape[0])
    outputs: list[torch.Tensor] = []
    with parametrize.cached():
        for t in range(inputs.shape[1]):
            x_t = inputs[:, t] if t == 0 else alpha * inputs[:, t] + (1 - alpha) * outputs[-1]
            state = model.step(x_t, state)
            outputs.append(model.readout(state))
    return torch.stack(outputs, dim=1)


def objective(
    model: RecurrentModel,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    config: TrainConfig,
    alpha: torch.Tensor | None = None,
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
    alpha : Tensor, optional
        The current alpha of adaptive GTF (:class:`rnndyn.training.forcing.AdaptiveAlpha`);
        needed when ``config.gtf_alpha`` is ``"adaptive"``, ignored otherwise.
    """
    # One cached evaluation of any parametrised weight per batch, never across optimiser steps.
    with parametrize.cached():
        if config.mode == "teacher":
            return loss(config, model.outputs(inputs), targets)
        if config.mode == "sparse_tf":
            return loss(config, sparse_teacher_forcing(model, inputs, config.tf_interval), targets)
        if config.mode == "gtf":
            if config.adaptive_alpha:
                if alpha is None:
                    raise ValueError("adaptive GTF needs the current alpha")
                return loss(config, generalized_teacher_forcing(model, inputs, alpha), targets)
            if config.gtf_alpha == 1.0:
                # Teacher forcing itself, on the fused kernels where the family has them.
                return loss(config, model.outputs(inputs), targets)
            outputs = generalized_teacher_forcing(model, inputs, float(config.gtf_alpha))
            return loss(config, outputs, targets)
        horizon, length = config.rollout_horizon, inputs.shape[1]
        predictions, _ = closed_loop(model, inputs[:, : length - horizon + 1], horizon)
        return loss(config, predictions, targets[:, length - horizon :])
