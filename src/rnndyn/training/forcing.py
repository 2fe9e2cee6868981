"""Adaptive alpha of generalized teacher forcing (GTF; Hess, Monfared, Brenner & Durstewitz 2023).

Why alpha: under GTF the state that enters each step is pulled towards the data by the factor
alpha, so the Jacobian products behind the loss gradient are damped. For forcing of the latent
state, ``z~_t = (1 - alpha) z_t + alpha z^_t``, the product of ``T`` step Jacobians is bounded by
``(1 - alpha)^T prod ||J_t||``; with ``G`` the geometric mean of the norms ``||J_t||`` along a
sequence this stays bounded when ``(1 - alpha) G <= 1``, and the least forcing that does so is

    alpha* = max(0, 1 - 1 / G)

(Hess et al. 2023, ICML, "Generalized teacher forcing for learning chaotic dynamics").
``G <= 1`` (a contracting model) needs no forcing (alpha* = 0); an expanding one needs
alpha* > 0.

Here (:func:`jacobian_growth`) ``G`` is the authors' "product upper bound" estimate, written
from the paper and the description of their public code (DurstewitzLab/GTF-shPLRNN,
``alpha_estimation.jl``): the spectral norms of the Jacobians of the autonomous (closed-loop)
map ``s -> step(readout(s), s)`` at the states of a teacher-forced run of each sequence of the
batch (the analogue of their data-inferred latent states), their geometric mean over time per
sequence, and the maximum over the batch. Two economies against their code, which takes exact
norms at every state: each norm is a power-iteration estimate (:func:`spectral_norms`, a lower
bound within a few per cent), and long batches are subsampled in time (:data:`MAX_STATES`).
In this study data enter as inputs, so GTF forces the
input (:func:`rnndyn.training.objectives.generalized_teacher_forcing`) and a step's Jacobian with
respect to the previous state is ``J_s + (1 - alpha) J_x B`` (``J_s``, ``J_x`` the step's
Jacobians with respect to the state and the input, ``B`` the read-out), which interpolates
between teacher forcing (``J_s``) and the closed loop (``J_s + J_x B``). The bound above is
therefore exact for latent forcing and the paper's rule carried over by analogy for input
forcing (alpha = 1 and alpha = 0 mean the same in both).

Annealing (:func:`anneal`, the authors' rule): an estimate above the current alpha replaces it;
one below moves alpha to ``gamma * alpha + (1 - gamma) * estimate``, so that alpha falls slowly
and rises at once.
"""

from __future__ import annotations

import torch
from torch.nn.utils import parametrize

from rnndyn.models import RecurrentModel
from rnndyn.training.config import TrainConfig

POWER_ITERATIONS = 20
"""Power iterations of :func:`spectral_norms`."""
MAX_STATES = 1024
"""States at which :func:`jacobian_growth` evaluates Jacobian norms, at most: an estimate then
costs about as much as one optimiser step on the study's Lorenz batches (CPU)."""


def jacobian_growth(model: RecurrentModel, inputs: torch.Tensor) -> torch.Tensor:
    """Growth ``G`` of the closed-loop Jacobians along teacher-forced runs of ``inputs``.

    Parameters
    ----------
    model : RecurrentModel
        With ``output_size == input_size``.
    inputs : Tensor, shape (B, T, input_size)

    Returns
    -------
    Tensor (0-dim, float64, on the inputs' device)
        ``max_b exp(mean_t log ||J(s_bt)||_2)``, ``J`` the Jacobian of the autonomous map at
        the state ``s_bt`` after input ``t`` of sequence ``b`` (module docstring), each norm
        from :func:`spectral_norms`. The mean runs over every time step when the batch has at
        most :data:`MAX_STATES` states, else over ``ceil(MAX_STATES / B)`` time steps evenly
        spread over each sequence (the midpoints of equal parts), the same for every sequence.
        No gradient.
    """
    with torch.no_grad():
        _, states = model(inputs)
    batch, length = states.shape[:2]
    points = min(length, -(-MAX_STATES // batch))
    if points < length:
        times = (torch.arange(points, dtype=torch.float64) + 0.5) * length / points
        states = states[:, times.long().to(states.device)]
    norms = spectral_norms(model, states.reshape(-1, model.state_size))
    return norms.reshape(batch, -1).log().mean(dim=1).exp().max()


def spectral_norms(
    model: RecurrentModel, states: torch.Tensor, iterations: int = POWER_ITERATIONS
) -> torch.Tensor:
    """``||J(s)||_2`` of the closed-loop map ``s -> step(readout(s), s)`` at states ``(N, S)``.

    Power iteration on ``J^T J`` without forming ``J``: each iteration is one Jacobian-vector
    and one vector-Jacobian product of the map over all ``N`` states at once
    (``torch.func.jvp``/``vjp``; the map acts on each row alone, so its batched Jacobian is
    block-diagonal), from the same fixed start vector for every state. The estimate
    ``||J v_k||`` never exceeds the norm and converges like ``(sigma_2 / sigma_1)^(2k)``;
    forming ``N`` Jacobians and their SVDs instead costs ``S`` products and ``N`` SVDs (seconds
    per estimate for the study's Lorenz batches on a CPU, a minute for an LSTM of 128 units).

    Returns
    -------
    Tensor, shape (N,), float64, without gradient.
    """
    states = states.detach()

    def autonomous(s: torch.Tensor) -> torch.Tensor:
        return model.step(model.readout(s), s)

    start = torch.randn(
        states.shape[-1], dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    vector = (start / start.norm()).to(states).expand_as(states)
    with parametrize.cached():
        # One plain call fills the cache of any parametrised weight outside torch.func's
        # transforms (which must not store their own wrapped tensors in it).
        _, pullback = torch.func.vjp(autonomous, states)
        for _ in range(iterations):
            _, image = torch.func.jvp(autonomous, (states,), (vector,))
            (back,) = pullback(image)
            vector = back / back.norm(dim=-1, keepdim=True)
        _, image = torch.func.jvp(autonomous, (states,), (vector,))
    return image.detach().double().norm(dim=-1)


def optimal_alpha(growth: torch.Tensor) -> torch.Tensor:
    """``max(0, 1 - 1 / G)`` (0 for ``G <= 1``; NaN stays NaN so that divergence shows)."""
    return (1.0 - 1.0 / growth).clamp(min=0.0)


def estimate_alpha(model: RecurrentModel, inputs: torch.Tensor) -> torch.Tensor:
    """The forcing the batch ``inputs`` needs: :func:`optimal_alpha` of :func:`jacobian_growth`."""
    return optimal_alpha(jacobian_growth(model, inputs))


def anneal(alpha: torch.Tensor, estimate: torch.Tensor, decay: float) -> torch.Tensor:
    """``estimate`` if it exceeds ``alpha``, else ``decay * alpha + (1 - decay) * estimate``."""
    return torch.where(estimate > alpha, estimate, decay * alpha + (1.0 - decay) * estimate)


class AdaptiveAlpha:
    """The alpha of one adaptive-GTF run: a float64 device tensor, updated without a host read.

    Parameters
    ----------
    config : TrainConfig
        ``gtf_alpha_start``, ``gtf_alpha_every`` and ``gtf_alpha_decay``.
    device : torch.device
    """

    def __init__(self, config: TrainConfig, device: torch.device) -> None:
        self.every = config.gtf_alpha_every
        self.decay = config.gtf_alpha_decay
        self.value = torch.tensor(config.gtf_alpha_start, dtype=torch.float64, device=device)

    def before_step(self, step: int, model: RecurrentModel, inputs: torch.Tensor) -> None:
        """Re-estimate on the batch ``inputs`` before the ``step``-th optimiser step of the run
        (0-based) when ``step + 1`` is a multiple of ``gtf_alpha_every``."""
        if (step + 1) % self.every == 0:
            self.value = anneal(self.value, estimate_alpha(model, inputs), self.decay)

    def state_dict(self) -> torch.Tensor:
        """The current alpha, for a checkpoint."""
        return self.value

    def load_state_dict(self, value: torch.Tensor) -> None:
        """Restore the alpha of a checkpoint (on this run's device)."""
        self.value = value.to(device=self.value.device, dtype=torch.float64)
