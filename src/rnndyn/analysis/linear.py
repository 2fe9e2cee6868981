"""Linear RNNs h_t = W h_{t-1} + U x_t: memory as powers of W, and the constant-input fixed point.

Indexing convention (the article's unrolled formula): inputs are numbered x_1 .. x_T and the state
after T inputs is

    h_T = sum_{i=0}^{T-1} W^i U x_{T-i} + W^T h_0,

which is the recursion h_t = W h_{t-1} + U x_t started from h_0. In arrays, ``x[t - 1]`` holds x_t,
so ``x[-1]`` (the newest input) is multiplied by W^0 and ``x[0]`` by W^{T-1}. The article writes the
same recursion as h_{t+1} = W h_t + U x_t, which differs only in the label of the input.
"""

from __future__ import annotations

import math

import numpy as np


def recurrent_state(W: np.ndarray, U: np.ndarray, x: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """State h_T of the linear RNN by running the recursion h_t = W h_{t-1} + U x_t.

    Parameters
    ----------
    W
        Recurrent matrix (n, n).
    U
        Input matrix (n, m).
    x
        Inputs (T, m); ``x[t - 1]`` is x_t.
    h0
        Initial state (n,).

    Returns
    -------
    numpy.ndarray
        h_T (n,), float64.
    """
    W, U, x = _as_float(W), _as_float(U), _as_float(x)
    h = _as_float(h0).copy()
    for x_t in x:
        h = W @ h + U @ x_t
    return h


def unrolled_state(W: np.ndarray, U: np.ndarray, x: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """State h_T from the unrolled sum  sum_{i=0}^{T-1} W^i U x_{T-i} + W^T h_0.

    The powers of W applied to U are the impulse response of the network: an input i steps in the
    past reaches the state through W^i (article, "RNN as a time machine").

    Parameters
    ----------
    W, U, x, h0
        As in :func:`recurrent_state`.

    Returns
    -------
    numpy.ndarray
        h_T (n,), float64; equal to :func:`recurrent_state` up to round-off.
    """
    W, U, x, h0 = _as_float(W), _as_float(U), _as_float(x), _as_float(h0)
    T = x.shape[0]
    h = np.zeros(W.shape[0])
    W_power = np.eye(W.shape[0])  # W^i
    for i in range(T):
        h += W_power @ (U @ x[T - 1 - i])
        W_power = W_power @ W
    return h + W_power @ h0


def random_matrix_with_spectral_radius(
    rng: np.random.Generator, n: int, rho: float, *, normal: bool = True, coupling: float = 2.0
) -> np.ndarray:
    """A random real n x n matrix whose spectral radius is exactly ``rho``.

    Built from its real Schur form, W = Q (B + N) Q^T with a Haar-random orthogonal Q. B is block
    diagonal: 2 x 2 rotation-scaling blocks r [[cos t, -sin t], [sin t, cos t]] (eigenvalues
    r e^{+-it}, t uniform in (0, pi)) and, for odd n, one real 1 x 1 block of random sign. The
    moduli are rho * sqrt(uniform), i.e. uniform over the disc of radius rho, with the first block
    set to modulus rho; for n >= 2 the leading eigenvalues are therefore a complex pair, so I - W
    stays invertible at rho = 1. N holds the non-normal part.

    Parameters
    ----------
    rng
        Source of randomness.
    n
        Size.
    rho
        Spectral radius max |eig(W)| (> 0).
    normal
        If True, N = 0: W is normal and ||W^k|| = rho^k, no transient growth. If False, N is
        strictly block-upper-triangular with i.i.d. N(0, coupling^2 / n) entries: the eigenvalues
        are unchanged but W is non-normal, so ||W^k U|| can grow for a while before it decays at the
        asymptotic rate log rho (hidden feed-forward amplification; Trefethen & Embree 2005,
        "Spectra and Pseudospectra"; Ganguli, Huh & Sompolinsky 2008, PNAS 105:18970).
    coupling
        Scale of N (used only when ``normal`` is False). With coupling = 1 the Schur form has the
        statistics of a Ginibre matrix's, whose response to a random input barely grows; from about
        2 on, random inputs are amplified several-fold before they decay.

    Returns
    -------
    numpy.ndarray
        W (n, n), float64.
    """
    n_pairs, n_real = divmod(n, 2)
    moduli = rho * np.sqrt(rng.uniform(size=n_pairs + n_real))
    moduli[0] = rho
    angles = rng.uniform(0.0, math.pi, size=n_pairs)
    schur = np.zeros((n, n))
    for j in range(n_pairs):
        c, s = math.cos(angles[j]), math.sin(angles[j])
        schur[2 * j : 2 * j + 2, 2 * j : 2 * j + 2] = moduli[j] * np.array([[c, -s], [s, c]])
    if n_real:
        schur[-1, -1] = moduli[-1] * rng.choice([-1.0, 1.0])
    if not normal:
        block = np.arange(n) // 2
        above_blocks = block[:, None] < block[None, :]
        schur += np.where(above_blocks, rng.standard_normal((n, n)) * coupling / math.sqrt(n), 0.0)
    Q = _haar_orthogonal(rng, n)
    return Q @ schur @ Q.T


def impulse_response(W: np.ndarray, U: np.ndarray, n_steps: int) -> np.ndarray:
    """Norms of the impulse response, ||W^k U|| for k = 0 .. n_steps - 1.

    Parameters
    ----------
    W
        Recurrent matrix (n, n).
    U
        Input matrix (n, m) or input vector (n,).
    n_steps
        Number of lags.

    Returns
    -------
    numpy.ndarray
        (n_steps,) Frobenius norms (the 2-norm for a vector U), float64.
    """
    W = _as_float(W)
    response = _as_float(U)
    norms = np.empty(n_steps)
    for k in range(n_steps):
        norms[k] = np.linalg.norm(response)
        response = W @ response
    return norms


def decay_rate(norms: np.ndarray, *, tail_fraction: float = 0.5) -> float:
    """Fitted exponential rate per step of an impulse response, to compare with log rho(W).

    The least-squares slope of log(norms[k]) against k, fitted on the last ``tail_fraction`` of the
    lags only: the head carries the transient (non-normal growth, sub-dominant eigenvalues), while
    the tail is dominated by the eigenvalue of largest modulus, where ||W^k U|| ~ c rho^k.
    Lags whose norm is zero or not finite (underflow, overflow) are left out of the fit.

    Parameters
    ----------
    norms
        (K,) impulse-response norms, e.g. from :func:`impulse_response`.
    tail_fraction
        Fraction of the lags, counted from the end, used in the fit (0 < tail_fraction <= 1).

    Returns
    -------
    float
        Rate per step (natural log); negative for a decaying response.
    """
    norms = _as_float(norms)
    k = np.arange(norms.size)
    start = norms.size - max(2, int(round(tail_fraction * norms.size)))
    k, norms = k[start:], norms[start:]
    usable = np.isfinite(norms) & (norms > 0)
    if usable.sum() < 2:
        raise ValueError("fewer than two positive, finite norms in the fitted tail")
    slope, _ = np.polyfit(k[usable], np.log(norms[usable]), 1)
    return float(slope)


def memory_horizon(norms: np.ndarray, threshold: float) -> float:
    """Number of steps after which the impulse response stays below ``threshold`` of its start.

    Parameters
    ----------
    norms
        (K,) impulse-response norms; norms[0] is the response to the current input.
    threshold
        Relative level in (0, 1).

    Returns
    -------
    float
        The smallest lag k with norms[j] <= threshold * norms[0] for every j >= k, as a float;
        ``inf`` if the last norm is still above the threshold. Compare with
        :func:`predicted_memory_horizon`, log(threshold) / log rho, exact (after rounding up) for a
        normal W whose eigenvalues all have modulus rho.
    """
    norms = _as_float(norms)
    above = np.flatnonzero(~(norms <= threshold * norms[0]))
    if above.size and above[-1] == norms.size - 1:
        return math.inf
    return float(above[-1] + 1) if above.size else 0.0


def predicted_memory_horizon(rho: float, threshold: float) -> float:
    """log(threshold) / log(rho): lags for rho^k to fall to ``threshold``; ``inf`` for rho >= 1."""
    return math.log(threshold) / math.log(rho) if rho < 1 else math.inf


def constant_input_fixed_point(W: np.ndarray, U: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Fixed point h* = (I - W)^{-1} U u of h_t = W h_{t-1} + U u under a constant input u.

    It exists whenever 1 is not an eigenvalue of W, and attracts every initial state iff
    rho(W) < 1.

    Parameters
    ----------
    W
        (n, n).
    U
        (n, m).
    u
        Constant input (m,).

    Returns
    -------
    numpy.ndarray
        h* (n,), float64.
    """
    W = _as_float(W)
    return np.linalg.solve(np.eye(W.shape[0]) - W, _as_float(U) @ _as_float(u))


def iterate_constant_input(
    W: np.ndarray, U: np.ndarray, u: np.ndarray, h0: np.ndarray, n_steps: int
) -> np.ndarray:
    """Trajectory of h_t = W h_{t-1} + U u from h_0 under a constant input.

    Returns
    -------
    numpy.ndarray
        (n_steps + 1, n), float64; row 0 is h_0. Diverging runs overflow to inf silently.
    """
    W = _as_float(W)
    drive = _as_float(U) @ _as_float(u)
    trajectory = np.empty((n_steps + 1, W.shape[0]))
    trajectory[0] = _as_float(h0)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps):
            trajectory[t + 1] = W @ trajectory[t] + drive
    return trajectory


def converges_to_fixed_point(
    W: np.ndarray,
    U: np.ndarray,
    u: np.ndarray,
    h0: np.ndarray,
    n_steps: int,
    *,
    rtol: float = 1e-8,
) -> bool:
    """Whether the constant-input iteration reaches h* = (I - W)^{-1} U u within ``n_steps``.

    Converged means the distance to h* has shrunk to ``rtol`` times its initial value. For
    rho(W) < 1 that takes about log(rtol) / log rho(W) steps plus any non-normal transient, so
    ``n_steps`` must exceed it; for rho(W) >= 1 the distance along the marginal or unstable modes
    never shrinks, whatever ``n_steps``. A singular I - W (eigenvalue exactly 1, no unique fixed
    point) counts as not converged.

    Parameters
    ----------
    W, U, u, h0, n_steps
        As in :func:`iterate_constant_input`; h0 must differ from h*.
    rtol
        Required reduction of ||h_t - h*||.

    Returns
    -------
    bool
    """
    try:
        h_star = constant_input_fixed_point(W, U, u)
    except np.linalg.LinAlgError:
        return False
    trajectory = iterate_constant_input(W, U, u, h0, n_steps)
    with np.errstate(over="ignore", invalid="ignore"):
        final = np.linalg.norm(trajectory[-1] - h_star)
    return bool(np.isfinite(final) and final <= rtol * np.linalg.norm(trajectory[0] - h_star))


def _haar_orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    """Haar-distributed orthogonal matrix (QR of a Gaussian matrix with the sign of R fixed)."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def _as_float(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)
