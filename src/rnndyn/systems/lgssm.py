"""Linear Gaussian state-space models x_{t+1} = A x_t + w_t, y_t = C x_t + v_t,
w ~ N(0, Q), v ~ N(0, R).

Time runs t = 1 .. T; x_1 is drawn from the stationary distribution N(0, Sigma),
Sigma = A Sigma A^T + Q, so the simulated sequences have no transient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg


@dataclass(frozen=True)
class LinearGaussianSystem:
    """Matrices of a linear Gaussian state-space model (float64).

    Attributes
    ----------
    A
        State transition (n, n).
    C
        Observation matrix (p, n).
    Q
        Process-noise covariance (n, n).
    R
        Observation-noise covariance (p, p).
    """

    A: np.ndarray
    C: np.ndarray
    Q: np.ndarray
    R: np.ndarray


def stationary_state_covariance(A: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Sigma solving the discrete Lyapunov equation Sigma = A Sigma A^T + Q (needs rho(A) < 1).

    Returns
    -------
    numpy.ndarray
        (n, n) stationary covariance of x_t, float64.
    """
    A, Q = np.asarray(A, np.float64), np.asarray(Q, np.float64)
    return scipy.linalg.solve_discrete_lyapunov(A, Q)


def simulate_lgssm(
    A: np.ndarray,
    C: np.ndarray,
    Q: np.ndarray,
    R: np.ndarray,
    n_steps: int,
    rng: np.random.Generator,
    *,
    n_sequences: int = 1,
    x0_cov: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample state and observation sequences of the linear Gaussian state-space model.

    Parameters
    ----------
    A, C, Q, R
        Model matrices, see :class:`LinearGaussianSystem`; Q and R may be singular (PSD).
    n_steps
        T, the sequence length.
    rng
        Source of randomness.
    n_sequences
        S, number of independent sequences.
    x0_cov
        Covariance of x_1 (mean 0); default the stationary covariance
        :func:`stationary_state_covariance`, so every x_t has the same distribution.

    Returns
    -------
    states : numpy.ndarray
        (S, T, n) x_1 .. x_T, float64.
    observations : numpy.ndarray
        (S, T, p) y_1 .. y_T, float64.
    """
    A, C = np.asarray(A, np.float64), np.asarray(C, np.float64)
    n, p = A.shape[0], C.shape[0]
    if x0_cov is None:
        x0_cov = stationary_state_covariance(A, Q)
    states = np.empty((n_sequences, n_steps, n))
    states[:, 0] = rng.standard_normal((n_sequences, n)) @ _psd_sqrt(x0_cov).T
    process_noise = rng.standard_normal((n_sequences, n_steps - 1, n)) @ _psd_sqrt(Q).T
    for t in range(n_steps - 1):
        states[:, t + 1] = states[:, t] @ A.T + process_noise[:, t]
    observation_noise = rng.standard_normal((n_sequences, n_steps, p)) @ _psd_sqrt(R).T
    return states, states @ C.T + observation_noise


def kalmannet_canonical_system(
    n: int, *, rho: float = 0.9, noise_ratio_db: float = 0.0, r2: float = 1.0
) -> LinearGaussianSystem:
    """The linear "canonical" benchmark of KalmanNet (2 x 2, 5 x 5, 10 x 10), made stable.

    KalmanNet's reference code (Revach et al. 2022, IEEE Trans. Signal Process. 70:1532;
    github.com/KalmanNet/KalmanNet_TSP, ``Simulations/Linear_canonical/parameters.py``) uses

    * F in canonical form: the identity with its first row set to ones;
    * H = I for n = 2, otherwise in "reverse canonical" form: the anti-diagonal identity with its
      first row set to ones;
    * Q = q^2 I, R = r^2 I with the ratio v = q^2 / r^2 given in dB (they sweep 0, -10, -20 dB).

    Their F has every eigenvalue equal to 1 (F = I + N with N = e_1 (1, ..., 1, with 0 first)^T,
    N^2 = 0), so the state is not stationary. We use A = rho F: every eigenvalue of A equals rho,
    so rho(A) = rho < 1, and A^k = rho^k (I + k N) keeps the non-normal, polynomially growing
    transient of the original before it decays. C = H is unchanged.

    Parameters
    ----------
    n
        State and observation dimension (KalmanNet: 2, 5, 10); n >= 2.
    rho
        Spectral radius of A, in (0, 1).
    noise_ratio_db
        10 log10(q^2 / r^2).
    r2
        Observation-noise variance r^2.

    Returns
    -------
    LinearGaussianSystem
        A (n, n), C (n, n), Q = q^2 I, R = r^2 I.
    """
    F = np.eye(n)
    F[0] = 1.0
    if n == 2:
        H = np.eye(2)
    else:
        H = np.fliplr(np.eye(n))
        H[0] = 1.0
    q2 = r2 * 10.0 ** (noise_ratio_db / 10.0)
    return LinearGaussianSystem(A=rho * F, C=H, Q=q2 * np.eye(n), R=r2 * np.eye(n))


def random_stable_system(
    rng: np.random.Generator, n: int, p: int, rho: float, *, q: float = 1.0, r: float = 1.0
) -> LinearGaussianSystem:
    """A random stable system: Ginibre A rescaled to spectral radius ``rho``, Gaussian C.

    Parameters
    ----------
    rng
        Source of randomness.
    n, p
        State and observation dimensions.
    rho
        Spectral radius of A, in (0, 1).
    q, r
        Noise variances: Q = q I, R = r I.

    Returns
    -------
    LinearGaussianSystem
        A = rho G / rho(G) with G_ij ~ N(0, 1/n); C_ij ~ N(0, 1/n), so each output has O(1) gain.
    """
    G = rng.standard_normal((n, n)) / math.sqrt(n)
    A = rho * G / np.max(np.abs(np.linalg.eigvals(G)))
    C = rng.standard_normal((p, n)) / math.sqrt(n)
    return LinearGaussianSystem(A=A, C=C, Q=q * np.eye(n), R=r * np.eye(p))


def system_from_spec(spec: dict[str, Any], rng: np.random.Generator | None) -> LinearGaussianSystem:
    """The system a config entry names.

    Parameters
    ----------
    spec
        ``kind: canonical`` with ``n``, ``rho``, ``noise_ratio_db``, ``r2``
        (:func:`kalmannet_canonical_system`), or ``kind: random`` with ``n``, ``p``, ``rho``, ``q``,
        ``r`` (:func:`random_stable_system`).
    rng
        Draws a random system (unused for canonical ones).
    """
    if spec["kind"] == "canonical":
        return kalmannet_canonical_system(spec["n"], rho=spec["rho"], noise_ratio_db=spec["noise_ratio_db"],
                                          r2=spec["r2"])
    return random_stable_system(rng, spec["n"], spec["p"], spec["rho"], q=spec["q"], r=spec["r"])


def _psd_sqrt(S: np.ndarray) -> np.ndarray:
    """L with L L^T = S for a symmetric positive semi-definite S (eigen-decomposition, no Cholesky,
    so singular noise covariances are allowed)."""
    eigenvalues, V = np.linalg.eigh(np.asarray(S, np.float64))
    return V * np.sqrt(np.clip(eigenvalues, 0.0, None))
