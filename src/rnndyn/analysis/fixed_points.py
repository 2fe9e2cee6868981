"""Fixed points of a discrete-time map h <- F(h) by minimising q(h) = 1/2 ||F(h) - h||^2.

The method of Sussillo & Barak (2013, "Opening the black box: low-dimensional dynamics in
high-dimensional recurrent neural networks", Neural Comput. 25:626) in the batched form of Golub &
Sussillo (2018, "FixedPointFinder: a Tensorflow toolbox for identifying and characterizing fixed
points in recurrent neural networks", JOSS 3:1003): run gradient descent on q from many initial
states at once, keep the minima where q is (numerically) zero, deduplicate them, and linearise F
there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

Map = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class FixedPoints:
    """Deduplicated fixed points of a map, sorted by increasing q, with their linear stability.

    Attributes
    ----------
    points
        (K, d) states h* with F(h*) ~ h*, float64.
    q
        (K,) values of q(h*) = 1/2 ||F(h*) - h*||^2.
    eigenvalues
        (K, d) complex eigenvalues of the Jacobian dF/dh at each point.
    n_unstable
        (K,) number of eigenvalues with modulus > 1 (unstable directions of the discrete map).
    is_stable
        (K,) True where every eigenvalue has modulus < 1.
    """

    points: np.ndarray
    q: np.ndarray
    eigenvalues: np.ndarray
    n_unstable: np.ndarray
    is_stable: np.ndarray


def find_fixed_points(
    F: Map,
    initial_states: torch.Tensor,
    *,
    n_iter: int = 5000,
    lr: float = 1e-2,
    final_lr_fraction: float = 1e-3,
    q_tol: float = 1e-12,
    dedup_tol: float = 1e-3,
) -> FixedPoints:
    """Find and classify the fixed points of h <- F(h) reached from a batch of initial states.

    Each state descends its own q(h) = 1/2 ||F(h) - h||^2 with Adam (all states in one batch; the
    summed loss gives each state its own gradient, and Adam's update is element-wise). Adam's steps
    stay about ``lr`` long near a minimum, so with a constant rate some states keep oscillating
    around theirs (q ~ 1e-8 at lr = 1e-2 on a tanh network); the rate therefore decays
    geometrically to ``lr * final_lr_fraction`` over ``n_iter`` steps. The descent
    stops early once every q is below ``q_tol``.

    Minima with q < ``q_tol`` are kept (the others are slow points or unfinished); states closer
    than ``dedup_tol`` to a kept state of lower q are dropped. Each point is classified by the
    eigenvalues of the Jacobian dF/dh (``torch.func.jacrev``): for a discrete map it is stable iff
    all |eig| < 1, and its number of unstable directions counts |eig| > 1.

    Parameters
    ----------
    F
        The map, (B, d) -> (B, d); it must accept float64 tensors (call ``.double()`` on a module)
        and act on each row independently. For a network driven by a constant input use
        :func:`constant_input_map`.
    initial_states
        (B, d) starting points, e.g. from :func:`sample_initial_states`.
    n_iter
        Maximum number of Adam steps (FixedPointFinder's default ``max_iters``).
    lr
        Initial Adam learning rate (units of h).
    final_lr_fraction
        Learning rate at the last step relative to ``lr``.
    q_tol
        Acceptance threshold on q (FixedPointFinder's ``tol_q``). A point with q < q_tol lies
        within sqrt(2 q_tol) / s of a true fixed point, s the smallest singular value of dF/dh - I
        there.
    dedup_tol
        Euclidean distance under which two accepted points count as one; it must exceed the
        position uncertainty above (the descent stops as soon as every q < q_tol). The default is
        FixedPointFinder's ``tol_unique``.

    Returns
    -------
    FixedPoints
        Possibly empty (K = 0).
    """
    h = initial_states.detach().to(torch.float64).clone().requires_grad_(True)
    optimiser = torch.optim.Adam([h], lr=lr)
    schedule = torch.optim.lr_scheduler.ExponentialLR(
        optimiser, gamma=final_lr_fraction ** (1.0 / max(n_iter, 1))
    )
    for _ in range(n_iter):
        q = speed(F, h)
        if bool(torch.all(q < q_tol)):
            break
        # autograd.grad rather than backward(): leaves the .grad of F's own parameters untouched.
        (h.grad,) = torch.autograd.grad(q.sum(), h)
        optimiser.step()
        schedule.step()

    with torch.no_grad():
        q = speed(F, h)
    accepted = torch.nonzero(q < q_tol).flatten()
    accepted = accepted[torch.argsort(q[accepted])]
    kept: list[int] = []
    for i in accepted.tolist():
        if all(torch.linalg.vector_norm(h[i] - h[j]).item() > dedup_tol for j in kept):
            kept.append(i)
    points = h.detach()[kept]
    d = h.shape[1]
    if not kept:
        return FixedPoints(
            points=np.empty((0, d)),
            q=np.empty(0),
            eigenvalues=np.empty((0, d), dtype=np.complex128),
            n_unstable=np.empty(0, dtype=np.int64),
            is_stable=np.empty(0, dtype=bool),
        )
    eigenvalues = np.linalg.eigvals(jacobians(F, points).detach().cpu().numpy())
    moduli = np.abs(eigenvalues)
    return FixedPoints(
        points=points.cpu().numpy(),
        q=q[kept].cpu().numpy(),
        eigenvalues=eigenvalues,
        n_unstable=np.sum(moduli > 1.0, axis=1),
        is_stable=np.all(moduli < 1.0, axis=1),
    )


def speed(F: Map, h: torch.Tensor) -> torch.Tensor:
    """q(h) = 1/2 ||F(h) - h||^2 for each row of h (B, d) -> (B,)."""
    return 0.5 * torch.sum((F(h) - h) ** 2, dim=-1)


def jacobians(F: Map, h: torch.Tensor) -> torch.Tensor:
    """Jacobians dF/dh at each row of h: (K, d) -> (K, d, d), by ``vmap(jacrev)``."""

    def single(state: torch.Tensor) -> torch.Tensor:
        return F(state.unsqueeze(0)).squeeze(0)

    return torch.func.vmap(torch.func.jacrev(single))(h)


def constant_input_map(
    step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], u: torch.Tensor
) -> Map:
    """The autonomous map h -> step(h, u) of a network held at a constant input u.

    Parameters
    ----------
    step
        One network update, (h (B, d), x (B, m)) -> (B, d).
    u
        Constant input (m,).

    Returns
    -------
    Callable
        F: (B, d) -> (B, d), for :func:`find_fixed_points`.
    """

    def F(h: torch.Tensor) -> torch.Tensor:
        return step(h, u.to(h.dtype).expand(h.shape[0], -1))

    return F


def sample_initial_states(
    trajectories: torch.Tensor, n_states: int, *, noise_std: float, generator: torch.Generator
) -> torch.Tensor:
    """Initial states for the search: states visited by the network, plus isotropic Gaussian noise.

    Sampling from trajectories focuses the search on the region the dynamics actually use
    (Sussillo & Barak 2013); the noise lets it reach nearby saddles.

    Parameters
    ----------
    trajectories
        (..., d) hidden states from network runs (any leading shape).
    n_states
        Number of initial states, drawn uniformly with replacement.
    noise_std
        Standard deviation of the added noise (units of h).
    generator
        Source of randomness.

    Returns
    -------
    torch.Tensor
        (n_states, d), float64.
    """
    states = torch.as_tensor(trajectories).detach().to(torch.float64)
    states = states.reshape(-1, states.shape[-1])
    device = generator.device
    index = torch.randint(states.shape[0], (n_states,), generator=generator, device=device)
    noise = torch.randn(
        n_states, states.shape[1], generator=generator, dtype=torch.float64, device=device
    )
    return states[index.to(states.device)] + noise_std * noise.to(states.device)


def newton_polish(F: Map, points: torch.Tensor, n_steps: int) -> torch.Tensor:
    """Refine approximate fixed points of h <- F(h) by Newton's method on F(h) - h = 0.

    Gradient descent on q stalls near fixed points with a Jacobian eigenvalue close to 1 (there q
    is flat: a GRU's memories often sit at eigenvalues ~0.99), while Newton's step
    h <- h - (DF(h) - I)^{-1} (F(h) - h) converges quadratically wherever DF - I is invertible.
    The step is a least-squares solve, so a singular DF - I moves the point without failing; points
    that do not converge keep a large q and are rejected afterwards (e.g. by
    :func:`find_fixed_points` with ``n_iter=0``).

    Parameters
    ----------
    F
        The map, (B, d) -> (B, d), float64.
    points
        (B, d) starting points (e.g. minima of a coarse q descent).
    n_steps
        Newton iterations.

    Returns
    -------
    torch.Tensor
        (B, d) refined points.
    """
    h = points.detach().to(torch.float64).clone()
    identity = torch.eye(h.shape[1], dtype=h.dtype)
    for _ in range(n_steps):
        with torch.no_grad():
            residual = F(h) - h
        system = jacobians(F, h).detach() - identity
        h = h - torch.linalg.lstsq(system, residual.unsqueeze(-1)).solution.squeeze(-1)
    return h
