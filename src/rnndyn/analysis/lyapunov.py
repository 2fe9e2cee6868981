"""Lyapunov spectra by the QR method, for any map or flow, batched.

A tangent basis ``Q`` (``d × k`` orthonormal) is pushed forward by the Jacobian of the map,
``Q ← DF(x_n) Q``, and re-orthonormalised by a QR factorisation ``Q = Q' R``; the time averages of
``log |R_ii|`` converge to the ``k`` leading Lyapunov exponents (Benettin et al. 1980; Shimada &
Nagashima 1979). Everything is batched over a leading dimension ``B`` (initial conditions, or
networks whose parameters the caller batches into the step).

Three ways to give the tangent map of an autonomous system, one engine:

- :func:`lyapunov_spectrum` — a map ``step`` and its Jacobian ``jacobian`` (NumPy);
- :func:`rk4_tangent_step` / :func:`rk4_step_jacobian` — the exact derivative of an RK4 step of a
  flow with an analytic Jacobian, so a flow's spectrum is that of the discrete map actually iterated;
- :func:`lyapunov_spectrum_autograd` — a closed-loop network step in torch; the tangent basis is
  pushed forward by forward-mode autodiff (``torch.func.jvp`` vectorised by ``torch.func.vmap``
  over the ``k`` tangent columns, i.e. ``jacfwd`` applied to ``Q`` instead of to the identity), so
  the full Jacobian is never formed and one step costs about one ``d × d × k`` product.

A map that changes with time (a system driven by a given signal) goes through
:func:`lyapunov_spectrum_driven`, whose tangent step also receives the step index.

Re-orthonormalisation interval
------------------------------
QR of the product of ``m`` Jacobians gives exactly the same ``log |R_ii|`` sums as a QR after every
step (a product of upper-triangular factors has the product of their diagonals), so the interval
changes only round-off. The columns of ``DF^m Q`` separate in norm like ``exp(m (λ_1 − λ_k))``; a
Householder QR of a matrix of condition number κ determines ``R_kk`` to relative accuracy about
``κ · 2⁻⁵²``. With ``qr_every="auto"`` the interval is adapted after every QR so that the spread
``max_i log|R_ii| − min_i log|R_ii|`` (a lower bound of log κ, its maximum over the batch) stays
below :data:`MAX_LOG_SPREAD` = 20 (κ ≈ 5·10⁸, so each QR adds a relative error of order 10⁻⁷ to the
smallest ``R_kk``, an absolute error of order 10⁻⁷ per QR in its log sum, and far less to the leading
ones), and so that no column grows or shrinks by more than ``exp(MAX_LOG_GROWTH)`` (float64
overflows beyond e⁷⁰⁹). The interval at most doubles from one QR to the next (starting at 1) and is
capped at :data:`MAX_QR_INTERVAL`. Measured on a random tanh network (N = 256, g = 1–2; full
spectrum): intervals whose spread stays below about 23 change no exponent by more than 2·10⁻⁷ with
respect to a QR after every step, while spreads of 27–30 already cost up to 10⁻³ in the smallest
exponents. For Lorenz at dt = 0.01 (mean spread ≈ 0.16 per step, larger in the worst member of a
batch) the interval settles near 70 steps for a batch of 512;
for a chaotic tanh network with N = 256 (spread 4.6 per step at g = 1.5, 7.4 at g = 2) it is 4 or 2.
The tests and ``benchmarks/bench_lyapunov_random_rnn.py`` compare it with a QR after every step.

Bias of a finite-time estimate
------------------------------
``n_transient`` steps are iterated (with QR) before averaging so that the basis is aligned with the
Lyapunov vectors; without it the estimates carry an O(1/T) bias from the initial orientation. For
a flow the zero exponent (along the flow direction) converges like ``log(|f(x_T)|/|f(x_0)|)/T``:
an O(1/T) error in each trajectory, whose batch mean vanishes when the initial states are sampled
on the attractor (x_0 and x_T then have the same distribution), so the batch mean of λ_2 converges
like 1/(T √B). The other exponents converge like 1/√(B T) (central limit). For a flow integrated by
RK4 with step ``dt`` the spectrum is that of the RK4 map, which differs from the flow's by O(dt⁴).

References
----------
.. [1] G. Benettin, L. Galgani, A. Giorgilli, J.-M. Strelcyn, "Lyapunov characteristic exponents for
   smooth dynamical systems and for Hamiltonian systems; a method for computing all of them",
   Meccanica 15, 9–20 and 21–30 (1980).
.. [2] I. Shimada, T. Nagashima, "A numerical approach to ergodic problem of dissipative dynamical
   systems", Prog. Theor. Phys. 61, 1605–1616 (1979).
.. [3] J. L. Kaplan, J. A. Yorke, "Chaotic behavior of multidimensional difference equations", in
   Functional Differential Equations and Approximation of Fixed Points, Lecture Notes in
   Mathematics 730, 204–227 (1979).
.. [4] J. C. Sprott, "Chaos and Time-Series Analysis", Oxford University Press (2003).
.. [5] L. M. Pecora, T. L. Carroll, "Synchronization in chaotic systems", Phys. Rev. Lett. 64,
   821–824 (1990).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, TypeVar

import numpy as np
import torch

MAX_LOG_SPREAD = 20.0
"""Largest accepted ``max_i log|R_ii| − min_i log|R_ii|`` between two QRs in ``qr_every="auto"``."""

MAX_LOG_GROWTH = 300.0
"""Largest accepted ``|log R_ii|`` between two QRs in ``qr_every="auto"`` (float64 overflows at e⁷⁰⁹)."""

MAX_QR_INTERVAL = 1000
"""Cap on the adaptive re-orthonormalisation interval, in steps."""

Array = TypeVar("Array", np.ndarray, torch.Tensor)
TangentStep = Callable[[Array, Array], tuple[Array, Array]]
DrivenTangentStep = Callable[[int, Array, Array], tuple[Array, Array]]
QrEvery = int | Literal["auto"]


@dataclass(frozen=True)
class LyapunovResult:
    """Lyapunov exponents of a batch, with their running estimates.

    Attributes
    ----------
    exponents
        ``(B, k)`` exponents per unit time (per step when ``dt = 1``), sorted descending.
    running
        ``(n_records, B, k)`` running estimates (averages from the end of the transient up to
        ``times``), each record sorted descending; ``running[-1] == exponents``.
    times
        ``(n_records,)`` averaging time of each record (``steps * dt``).
    n_qr
        Number of re-orthonormalisations after the transient (``n_steps / n_qr`` is the mean interval).
    """

    exponents: np.ndarray
    running: np.ndarray
    times: np.ndarray
    n_qr: int

    def mean(self) -> np.ndarray:
        """``(k,)`` mean over the batch."""
        return self.exponents.mean(axis=0)

    def std(self) -> np.ndarray:
        """``(k,)`` sample standard deviation over the batch (ddof = 1; NaN when B = 1)."""
        if self.exponents.shape[0] < 2:
            return np.full(self.exponents.shape[1], np.nan)
        return self.exponents.std(axis=0, ddof=1)

    def standard_error(self) -> np.ndarray:
        """``(k,)`` standard error of :meth:`mean`, ``std / sqrt(B)`` (independent batch members)."""
        return self.std() / np.sqrt(self.exponents.shape[0])


def kaplan_yorke_dimension(exponents: np.ndarray) -> np.ndarray:
    """Kaplan–Yorke (Lyapunov) dimension of a spectrum (Kaplan & Yorke 1979 [3]).

    ``D = j + (λ_1 + … + λ_j) / |λ_{j+1}|`` with ``j`` the largest index whose partial sum is ≥ 0.

    Parameters
    ----------
    exponents
        ``(..., d)`` spectra (any order; sorted descending here).

    Returns
    -------
    numpy.ndarray
        ``(...)`` dimensions. ``0`` when λ1 < 0 (a stable fixed point); ``d`` when every partial
        sum is ≥ 0 (the volume does not contract: the formula has no λ_{j+1}, the set fills the
        phase space); NaN when a spectrum contains NaN.
    """
    lam = -np.sort(-np.asarray(exponents, dtype=np.float64), axis=-1)  # NaNs sort last
    d = lam.shape[-1]
    partial = np.cumsum(lam, axis=-1)
    j = np.sum(np.cumprod(partial >= 0.0, axis=-1), axis=-1)  # leading run of non-negative sums
    inner = np.clip(j, 1, d - 1)
    s_j = np.take_along_axis(partial, (inner - 1)[..., None], axis=-1)[..., 0]
    lam_next = np.take_along_axis(lam, inner[..., None], axis=-1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        interior = inner + s_j / np.abs(lam_next)
    dimension = np.where(j == 0, 0.0, np.where(j == d, float(d), interior))
    # [()] turns the 0-d result of a single spectrum into a scalar.
    return np.where(np.isnan(lam).any(axis=-1), np.nan, dimension)[()]


def lyapunov_spectrum(
    step: Callable[[np.ndarray], np.ndarray],
    jacobian: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    *,
    n_steps: int,
    n_transient: int = 0,
    qr_every: QrEvery = "auto",
    dt: float = 1.0,
    record_every: int | None = None,
    n_exponents: int | None = None,
    rng: np.random.Generator | None = None,
) -> LyapunovResult:
    """Lyapunov spectrum of a map ``x_{n+1} = F(x_n)`` from its Jacobian, by QR [1, 2].

    Parameters
    ----------
    step
        ``F``: states ``(B, d)`` → ``(B, d)``. For a flow, an RK4 step (see :func:`rk4_step_jacobian`).
    jacobian
        ``DF``: states ``(B, d)`` → ``(B, d, d)``, the Jacobian of ``step`` at each state.
    x0
        ``(B, d)`` initial states.
    n_steps
        Steps averaged over, after the transient.
    n_transient
        Steps iterated (with re-orthonormalisation) before averaging starts.
    qr_every
        Re-orthonormalisation interval in steps, or ``"auto"`` (adaptive; see the module docstring).
    dt
        Time per step: exponents are ``log growth / (steps * dt)``; 1 gives exponents per step.
    record_every
        Steps between running-estimate records (default: ``n_steps // 100``, at least 1). A record
        is taken at the first QR at or after each multiple of ``record_every`` (records never force
        a QR, so they cost nothing), and always at ``n_steps``; ``LyapunovResult.times`` holds the
        exact times.
    n_exponents
        ``k ≤ d``: compute only the ``k`` leading exponents (QR of a ``d × k`` basis). Default ``d``.
    rng
        Draws the initial orthonormal basis (shared by the batch). ``None``: a fixed basis from
        PCG64 seed 0, so results are deterministic.

    Returns
    -------
    LyapunovResult
    """
    x0 = np.asarray(x0, dtype=np.float64)
    basis = _start_basis(x0, n_exponents, rng)

    def tangent_step(x: np.ndarray, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return step(x), jacobian(x) @ basis

    return _qr_iterate(tangent_step, x0, basis, n_steps=n_steps, n_transient=n_transient,
                       qr_every=qr_every, dt=dt, record_every=record_every)


def lyapunov_spectrum_tangent(
    tangent_step: TangentStep,
    x0: Array,
    *,
    n_steps: int,
    n_transient: int = 0,
    qr_every: QrEvery = "auto",
    dt: float = 1.0,
    record_every: int | None = None,
    n_exponents: int | None = None,
    rng: np.random.Generator | None = None,
) -> LyapunovResult:
    """Lyapunov spectrum from a tangent step that advances a state and a tangent basis together.

    The engine behind :func:`lyapunov_spectrum` and :func:`lyapunov_spectrum_autograd`, for callers
    whose map is cheaper to differentiate along with the step (e.g. :func:`rk4_tangent_step`).

    Parameters
    ----------
    tangent_step
        ``(x (B, d), V (B, d, k)) → (F(x), DF(x) V)``; NumPy arrays or torch tensors (then the QR is
        ``torch.linalg.qr`` on the tensors' device).
    x0
        ``(B, d)`` initial states, float64.
    n_steps, n_transient, qr_every, dt, record_every, n_exponents, rng
        As in :func:`lyapunov_spectrum`.

    Returns
    -------
    LyapunovResult
    """
    basis = _start_basis(x0, n_exponents, rng)
    return _qr_iterate(tangent_step, x0, basis, n_steps=n_steps, n_transient=n_transient,
                       qr_every=qr_every, dt=dt, record_every=record_every)


def lyapunov_spectrum_autograd(
    step_fn: Callable[[torch.Tensor], torch.Tensor],
    h0: torch.Tensor,
    *,
    n_steps: int,
    n_transient: int = 0,
    qr_every: QrEvery = "auto",
    dt: float = 1.0,
    record_every: int | None = None,
    n_exponents: int | None = None,
    rng: np.random.Generator | None = None,
) -> LyapunovResult:
    """Lyapunov spectrum of a torch map (a closed-loop RNN step) with Jacobians by autodiff.

    The tangent basis is pushed forward by forward-mode autodiff, ``torch.func.vmap`` of
    ``torch.func.jvp`` over the ``k`` tangent columns: ``DF(h) Q`` costs about one ``d × d × k``
    product and the ``d × d`` Jacobian is never formed. QR by ``torch.linalg.qr``, on ``h0``'s device.

    Parameters
    ----------
    step_fn
        ``h (B, d) → h (B, d)``, deterministic, acting on each row independently (no coupling across
        the batch, e.g. no batch normalisation), differentiable by ``torch.func``, and accepting
        float64 (call ``model.double()`` first). It is evaluated under ``torch.no_grad()``.
    h0
        ``(B, d)`` initial hidden states (cast to float64).
    n_steps, n_transient, qr_every, dt, record_every, n_exponents, rng
        As in :func:`lyapunov_spectrum`.

    Returns
    -------
    LyapunovResult
    """
    h0 = h0.detach().to(torch.float64)

    def tangent_step(h: torch.Tensor, basis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        def push(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return torch.func.jvp(step_fn, (h,), (v,))

        # vmap over a leading (k, B, d) layout with canonical strides: torch.matmul then folds the k
        # tangents into one (k·B, d) matrix product; on other strides (the permuted column-major Q,
        # even when B = 1) it falls back to a batched product with the weights expanded k times,
        # 2–3 times slower. reshape + view gives canonical strides, copying only when it must.
        k, batch, d = basis.shape[2], basis.shape[0], basis.shape[1]
        tangents = basis.permute(2, 0, 1).reshape(k * batch, d).view(k, batch, d)
        h_new, pushed = torch.func.vmap(push, in_dims=0, out_dims=(None, 0))(tangents)
        return h_new, pushed.permute(1, 2, 0)

    with torch.no_grad():
        return lyapunov_spectrum_tangent(tangent_step, h0, n_steps=n_steps, n_transient=n_transient,
                                         qr_every=qr_every, dt=dt, record_every=record_every,
                                         n_exponents=n_exponents, rng=rng)


def lyapunov_spectrum_driven(
    tangent_step: DrivenTangentStep,
    x0: Array,
    *,
    n_steps: int,
    n_transient: int = 0,
    qr_every: QrEvery = "auto",
    dt: float = 1.0,
    record_every: int | None = None,
    n_exponents: int | None = None,
    rng: np.random.Generator | None = None,
) -> LyapunovResult:
    """Lyapunov spectrum of a driven (non-autonomous) map ``x_{t+1} = F_t(x_t)``, by QR [1, 2].

    The map changes with the step index ``t`` (a system driven by a given input sequence,
    ``F_t(x) = F(u_t, x)``); the exponents are then the conditional Lyapunov exponents of the
    response to that drive (Pecora & Carroll 1990 [5]). The same engine as
    :func:`lyapunov_spectrum_tangent`: ``tangent_step`` is called once per step, with
    ``t = 0, 1, …, n_transient + n_steps - 1`` in order.

    Parameters
    ----------
    tangent_step
        ``(t, x (B, d), V (B, d, k)) → (F_t(x), DF_t(x) V)``; NumPy arrays or torch tensors.
    x0
        ``(B, d)`` states at ``t = 0``, float64.
    n_steps, n_transient, qr_every, dt, record_every, n_exponents, rng
        As in :func:`lyapunov_spectrum`.

    Returns
    -------
    LyapunovResult
    """
    basis = _start_basis(x0, n_exponents, rng)

    def timed_step(timed: tuple[int, Array], basis: Array) -> tuple[tuple[int, Array], Array]:
        t, x = timed
        x, basis = tangent_step(t, x, basis)
        return (t + 1, x), basis

    return _qr_iterate(timed_step, (0, x0), basis, n_steps=n_steps, n_transient=n_transient,
                       qr_every=qr_every, dt=dt, record_every=record_every)


def rk4_tangent_step(
    vector_field: Callable[[np.ndarray], np.ndarray],
    vector_field_jacobian: Callable[[np.ndarray], np.ndarray],
    state: np.ndarray,
    tangent: np.ndarray,
    dt: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One RK4 step of ``dx/dt = f(x)`` and its exact linearisation applied to tangent vectors.

    The stages ``k_i`` of the classical RK4 step are differentiated exactly, ``δk_1 = Df(x) V``,
    ``δk_2 = Df(x + dt/2 k_1)(V + dt/2 δk_1)``, ``δk_3 = Df(x + dt/2 k_2)(V + dt/2 δk_2)``,
    ``δk_4 = Df(x + dt k_3)(V + dt δk_3)``, ``V' = V + dt/6 (δk_1 + 2 δk_2 + 2 δk_3 + δk_4)``, so the
    tangent vectors evolve by the derivative of the discrete map that advances the state.

    Parameters
    ----------
    vector_field
        ``f``: ``(B, d) → (B, d)``.
    vector_field_jacobian
        ``Df``: ``(B, d) → (B, d, d)``.
    state
        ``(B, d)`` states.
    tangent
        ``(B, d, k)`` tangent vectors (columns).
    dt
        Step size (time units).

    Returns
    -------
    tuple of numpy.ndarray
        New states ``(B, d)`` and new tangent vectors ``(B, d, k)``.
    """
    half = 0.5 * dt
    k1 = vector_field(state)
    d1 = vector_field_jacobian(state) @ tangent
    s2 = state + half * k1
    k2 = vector_field(s2)
    d2 = vector_field_jacobian(s2) @ (tangent + half * d1)
    s3 = state + half * k2
    k3 = vector_field(s3)
    d3 = vector_field_jacobian(s3) @ (tangent + half * d2)
    s4 = state + dt * k3
    k4 = vector_field(s4)
    d4 = vector_field_jacobian(s4) @ (tangent + dt * d3)
    new_state = state + (dt / 6.0) * (k1 + 2.0 * (k2 + k3) + k4)
    new_tangent = tangent + (dt / 6.0) * (d1 + 2.0 * (d2 + d3) + d4)
    return new_state, new_tangent


def rk4_step_jacobian(
    vector_field: Callable[[np.ndarray], np.ndarray],
    vector_field_jacobian: Callable[[np.ndarray], np.ndarray],
    state: np.ndarray,
    dt: float,
) -> np.ndarray:
    """Exact Jacobian ``(B, d, d)`` of one RK4 step at ``state`` ``(B, d)``; see :func:`rk4_tangent_step`.

    Use with ``rnndyn.systems.lorenz.rk4_step`` as the ``step`` / ``jacobian`` pair of
    :func:`lyapunov_spectrum`.
    """
    identity = np.broadcast_to(np.eye(state.shape[-1]), state.shape + (state.shape[-1],))
    return rk4_tangent_step(vector_field, vector_field_jacobian, state, identity, dt)[1]


def _check_state(x0: np.ndarray | torch.Tensor) -> None:
    if x0.ndim != 2:
        raise ValueError(f"initial states must have shape (B, d), got {tuple(x0.shape)}")


def _initial_basis(shape: tuple[int, ...], n_exponents: int | None,
                   rng: np.random.Generator | None) -> np.ndarray:
    """A random ``(B, d, k)`` orthonormal basis, the same for every batch member.

    Generic, so that no exponent is missed because the basis starts inside an invariant subspace.
    """
    batch, d = shape
    k = d if n_exponents is None else n_exponents
    if not 1 <= k <= d:
        raise ValueError(f"n_exponents must be in [1, {d}], got {n_exponents}")
    rng = np.random.default_rng(0) if rng is None else rng
    # Drawn d × d and cut to k columns, so the k leading exponents come from the same basis
    # columns as the full spectrum (identical numbers up to round-off).
    q, _ = np.linalg.qr(rng.standard_normal((d, d))[:, :k])
    return np.broadcast_to(q, (batch, d, k)).copy()


def _start_basis(x0: Array, n_exponents: int | None, rng: np.random.Generator | None) -> Array:
    """:func:`_initial_basis` for checked states ``x0``, as a tensor on their device when they are one."""
    _check_state(x0)
    basis = _initial_basis(tuple(x0.shape), n_exponents, rng)
    return torch.from_numpy(basis).to(device=x0.device) if isinstance(x0, torch.Tensor) else basis


def _orthonormalise(basis: Array) -> tuple[Array, np.ndarray]:
    """Householder QR of each ``(d, k)`` basis; returns ``Q`` (same type) and ``log|diag R|`` ``(B, k)``.

    NumPy bases go through ``torch.linalg.qr`` too (zero-copy views): it is 10–30 % faster than
    ``numpy.linalg.qr`` on stacked matrices, which copies each one to Fortran order and back.
    """
    tensor = basis if isinstance(basis, torch.Tensor) else torch.from_numpy(basis)
    q, r = torch.linalg.qr(tensor)
    # An exactly singular direction gives log 0 = −inf: its exponent is −inf.
    log_diag = torch.log(torch.abs(torch.diagonal(r, dim1=-2, dim2=-1))).cpu().numpy()
    return (q if isinstance(basis, torch.Tensor) else q.numpy()), log_diag


def _next_interval(interval: int, block: int, log_diag: np.ndarray) -> int:
    """The next adaptive QR interval (module docstring) after a block of ``block`` steps.

    ``log_diag`` is the block's ``log|diag R|`` ``(B, k)``; the batch shares one interval, set by its
    worst member.
    """
    spread = float(np.max(np.ptp(log_diag, axis=-1)))
    growth = float(np.max(np.abs(log_diag)))
    if not np.isfinite(spread + growth):
        return 1
    ratio = min(MAX_LOG_SPREAD / max(spread, 1e-300), MAX_LOG_GROWTH / max(growth, 1e-300))
    return int(min(max(np.floor(block * ratio), 1), 2 * interval, MAX_QR_INTERVAL))


def _qr_iterate(
    tangent_step: Callable[[object, Array], tuple[object, Array]],
    x: object,
    basis: Array,
    *,
    n_steps: int,
    n_transient: int,
    qr_every: QrEvery,
    dt: float,
    record_every: int | None,
) -> LyapunovResult:
    """The QR iteration shared by every front end; ``basis`` is ``(B, d, k)``.

    ``x`` is whatever ``tangent_step`` advances (the ``(B, d)`` states, or states with a time index
    for a driven map); the engine only passes it on.
    """
    if n_steps < 1 or n_transient < 0:
        raise ValueError("need n_steps >= 1 and n_transient >= 0")
    adaptive = qr_every == "auto"
    if not adaptive and (not isinstance(qr_every, (int, np.integer)) or qr_every < 1):
        raise ValueError(f"qr_every must be a positive integer or 'auto', got {qr_every!r}")
    interval = 1 if adaptive else int(qr_every)
    record_every = max(n_steps // 100, 1) if record_every is None else int(record_every)
    if record_every < 1:
        raise ValueError("record_every must be >= 1")

    def advance(x: Array, basis: Array, n: int) -> tuple[Array, Array, np.ndarray]:
        for _ in range(n):
            x, basis = tangent_step(x, basis)
        basis, log_diag = _orthonormalise(basis)
        return x, basis, log_diag

    done = 0
    while done < n_transient:
        block = min(interval, n_transient - done)
        x, basis, log_diag = advance(x, basis, block)
        done += block
        if adaptive:
            interval = _next_interval(interval, block, log_diag)

    log_sum = np.zeros((basis.shape[0], basis.shape[-1]))
    records, times = [], []
    done, n_qr = 0, 0
    next_record = min(record_every, n_steps)
    while done < n_steps:
        block = min(interval, n_steps - done)
        x, basis, log_diag = advance(x, basis, block)
        log_sum += log_diag
        done += block
        n_qr += 1
        if adaptive:
            interval = _next_interval(interval, block, log_diag)
        if done >= next_record:
            records.append(-np.sort(-log_sum / (done * dt), axis=-1))
            times.append(done * dt)
            next_record = min((done // record_every + 1) * record_every, n_steps)
    running = np.stack(records)
    return LyapunovResult(exponents=running[-1].copy(), running=running, times=np.asarray(times), n_qr=n_qr)
