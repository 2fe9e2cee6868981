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
    n_unstable, is_stable = classify(eigenvalues)
    return FixedPoints(
        points=points.cpu().numpy(),
        q=q[kept].cpu().numpy(),
        eigenvalues=eigenvalues,
        n_unstable=n_unstable,
        is_stable=is_stable,
    )


def classify(eigenvalues: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear stability of fixed points of a discrete-time map from their Jacobians' eigenvalues.

    A fixed point of h <- F(h) is stable iff every eigenvalue of dF/dh has modulus < 1; each
    eigenvalue with modulus > 1 is one unstable direction (a complex pair counts twice, as it spans
    a plane). A point with eigenvalues on the unit circle (modulus exactly 1) is neither stable nor
    unstable in that direction: it is not stable, and the direction is not counted as unstable.

    Parameters
    ----------
    eigenvalues
        (K, d) complex (or real) eigenvalues of the Jacobian at each of K points.

    Returns
    -------
    n_unstable : numpy.ndarray
        (K,) int, the number of eigenvalues with modulus > 1 (the saddle's index; 0 for a stable point).
    is_stable : numpy.ndarray
        (K,) bool, True where every modulus is < 1.
    """
    moduli = np.abs(np.asarray(eigenvalues))
    return np.sum(moduli > 1.0, axis=-1).astype(np.int64), np.all(moduli < 1.0, axis=-1)


def unstable_direction(jacobian: np.ndarray) -> tuple[float, np.ndarray]:
    """The unstable eigenvalue and unit eigenvector of a fixed point with one unstable direction.

    Parameters
    ----------
    jacobian
        (d, d) Jacobian dF/dh at the fixed point, with exactly one eigenvalue of modulus > 1
        (:func:`classify`). That eigenvalue is real (complex ones come in conjugate pairs), and so is
        its eigenvector.

    Returns
    -------
    eigenvalue : float
        The unstable multiplier (> 1, or < -1 for a flip saddle whose branches alternate sides).
    direction : numpy.ndarray
        (d,) unit eigenvector, its sign fixed so that its largest-magnitude entry is positive.
    """
    eigenvalues, vectors = np.linalg.eig(jacobian)
    unstable = np.flatnonzero(np.abs(eigenvalues) > 1.0)
    if unstable.size != 1:
        raise ValueError(f"expected one eigenvalue of modulus > 1, got {unstable.size}")
    direction = vectors[:, unstable[0]].real
    direction = direction / np.linalg.norm(direction)
    return float(eigenvalues[unstable[0]].real), direction * np.sign(direction[np.argmax(np.abs(direction))])


def saddle_connections(
    F: Map, fixed: FixedPoints, *, step: float, n_steps: int, landing_fraction: float
) -> dict[str, np.ndarray]:
    """Where the unstable manifold of each one-unstable saddle leads: the heteroclinic connections.

    Sussillo & Barak (2013, Fig. 3) draw a saddle between two attractors with its one unstable
    direction pointing at both. This checks it: from each saddle h* with one unstable eigenvector v,
    the autonomous map is run from h* + step v and h* - step v (the two branches of the
    one-dimensional unstable manifold) for ``n_steps`` steps, and each end state is attributed to the
    nearest stable fixed point if it lies within ``landing_fraction`` of that point's distance to the
    next stable point (a relative radius: attractors with a Jacobian eigenvalue near 1, as a GRU's
    memories, are approached slowly, and the scale of h differs between networks). A saddle connects
    two memories when its branches land on two different stable points.

    Parameters
    ----------
    F
        The map, (B, d) -> (B, d), float64.
    fixed
        Fixed points from :func:`find_fixed_points`.
    step
        Distance from the saddle along +-v where each branch starts (units of h); small enough that
        the linearisation holds, large enough that round-off does not dominate.
    n_steps
        Iterations of F per branch: long enough to leave the saddle (about ln(1/step)/ln|lambda_u|
        steps) and settle on an attractor.
    landing_fraction
        Largest distance between a branch's end state and the stable point it is attributed to, as a
        fraction of that point's distance to its nearest other stable point (with a single stable
        point, of the distance from the saddle to it).

    Returns
    -------
    dict
        ``saddle`` (S,): indices into ``fixed.points`` of the points with exactly one unstable
        direction; ``eigenvalue`` (S,): their unstable multipliers; ``direction`` (S, d): unit unstable
        eigenvectors; ``lands_on`` (S, 2): index into ``fixed.points`` of the stable point each branch
        (+v, -v) ends at, -1 where none is close enough; ``landing_distance`` (S, 2): the distance from
        each end state to the nearest stable point relative to that point's radius above (inf when
        there is none).
    """
    d = fixed.points.shape[1]
    saddles = np.flatnonzero(fixed.n_unstable == 1)
    out = {"saddle": saddles, "eigenvalue": np.empty(0), "direction": np.empty((0, d)),
           "lands_on": np.empty((0, 2), dtype=np.int64), "landing_distance": np.empty((0, 2))}
    if saddles.size == 0:
        return out
    points = torch.as_tensor(fixed.points[saddles], dtype=torch.float64)
    J = jacobians(F, points).detach().cpu().numpy()
    found = [unstable_direction(j) for j in J]
    eigenvalue = np.array([f[0] for f in found])
    direction = np.stack([f[1] for f in found])
    v = torch.as_tensor(direction, dtype=torch.float64)
    h = torch.cat([points + step * v, points - step * v])  # (2 S, d): branch +v, then branch -v
    with torch.no_grad():
        for _ in range(n_steps):
            h = F(h)
    ends = h.cpu().numpy().reshape(2, saddles.size, d).transpose(1, 0, 2)  # (S, 2, d)
    stable = np.flatnonzero(fixed.is_stable)
    if stable.size == 0:
        lands_on = np.full((saddles.size, 2), -1, dtype=np.int64)
        distance = np.full((saddles.size, 2), np.inf)
    else:
        attractors = fixed.points[stable]
        if stable.size > 1:
            between = np.linalg.norm(attractors[:, None] - attractors[None], axis=-1)
            np.fill_diagonal(between, np.inf)
            radius = np.broadcast_to(between.min(axis=1), (saddles.size, stable.size))
        else:
            radius = np.linalg.norm(fixed.points[saddles] - attractors[0], axis=-1)[:, None]
        gaps = np.linalg.norm(ends[:, :, None, :] - attractors[None, None], axis=-1)  # (S, 2, n_stable)
        relative = gaps / radius[:, None, :]
        nearest = gaps.argmin(axis=-1)
        distance = np.take_along_axis(relative, nearest[..., None], axis=-1)[..., 0]
        lands_on = np.where(distance <= landing_fraction, stable[nearest], -1)
    return {"saddle": saddles, "eigenvalue": eigenvalue, "direction": direction, "lands_on": lands_on,
            "landing_distance": distance}


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


def pairwise_midpoints(points: np.ndarray) -> np.ndarray:
    """Midpoints of every pair of points: starting states for a saddle search between attractors.

    A saddle that separates two attractors' basins lies on the basin boundary, which crosses the
    segment joining the attractors; the midpoint is a start from which q descent reaches it more
    often than from states on the trajectories, which only pass near saddles during a transition.

    Parameters
    ----------
    points
        (K, d) states, e.g. the stable fixed points found by a first search.

    Returns
    -------
    numpy.ndarray
        (K (K - 1) / 2, d) midpoints (h_i + h_j) / 2 for i < j.
    """
    i, j = np.triu_indices(len(points), k=1)
    return (points[i] + points[j]) / 2.0


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
