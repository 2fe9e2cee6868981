"""The steady-state Kalman one-step predictor is a linear RNN; tools to compare a trained RNN
with it.

Model (see :mod:`rnndyn.systems.lgssm`): x_{t+1} = A x_t + w_t, y_t = C x_t + v_t, w ~ N(0, Q),
v ~ N(0, R). The one-step predictor x_hat_{t+1} = E[x_{t+1} | y_1 .. y_t] in steady state is

    x_hat_{t+1} = (A - A K C) x_hat_t + A K y_t,      y_hat_{t+1} = C x_hat_{t+1},

with K = P C^T (C P C^T + R)^{-1} and P the predicted-state error covariance, the stabilising
solution of the filtering discrete algebraic Riccati equation (DARE)

    P = A P A^T - A P C^T (C P C^T + R)^{-1} C P A^T + Q

(Anderson & Moore, "Optimal Filtering", 1979, ch. 4). This is a linear RNN with recurrent matrix
A - A K C and input matrix A K (Kalman 1960).

A trained network (W, U, C) is compared with it through its impulse response (Markov parameters
C W^k U) and, after balanced truncation to the system's order, through its eigenvalues.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg
import scipy.optimize

if TYPE_CHECKING:
    from rnndyn.models.base import RecurrentModel


def steady_state_kalman(
    A: np.ndarray, C: np.ndarray, Q: np.ndarray, R: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Steady-state predicted-state covariance P (DARE) and gain K = P C^T (C P C^T + R)^{-1}.

    scipy's :func:`scipy.linalg.solve_discrete_are` solves the control-form equation
    a^T X a - X - a^T X b (r + b^T X b)^{-1} b^T X a + q = 0; the filtering DARE above is its dual,
    obtained with a = A^T, b = C^T, q = Q, r = R.

    Parameters
    ----------
    A, C, Q, R
        (n, n), (p, n), (n, n), (p, p); (A, C) detectable and R positive definite.

    Returns
    -------
    P : numpy.ndarray
        (n, n) covariance of x_t - x_hat_t given y_1 .. y_{t-1}, float64.
    K : numpy.ndarray
        (n, p) gain, float64.
    """
    A, C, Q, R = (np.asarray(M, np.float64) for M in (A, C, Q, R))
    P = scipy.linalg.solve_discrete_are(A.T, C.T, Q, R)
    P = 0.5 * (P + P.T)
    innovation_cov = C @ P @ C.T + R
    K = np.linalg.solve(innovation_cov, C @ P).T  # S symmetric: (S^{-1} C P)^T = P C^T S^{-1}
    return P, K


def kalman_predictor_matrices(
    A: np.ndarray, C: np.ndarray, K: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The predictor as a linear RNN: recurrent matrix A - A K C (n, n), input matrix A K (n, p)."""
    A, C, K = (np.asarray(M, np.float64) for M in (A, C, K))
    return A - A @ K @ C, A @ K


def kalman_predict(
    y: np.ndarray, A: np.ndarray, C: np.ndarray, K: np.ndarray, *, x0: np.ndarray | None = None
) -> np.ndarray:
    """Steady-state one-step predictions y_hat_t = C x_hat_t of y_t from y_1 .. y_{t-1}.

    Parameters
    ----------
    y
        Observations (..., T, p); ``y[..., t, :]`` is y_{t+1}.
    A, C, K
        Model matrices and steady-state gain (:func:`steady_state_kalman`).
    x0
        x_hat_1, the prior mean of x_1 (n,); default 0. The first predictions carry the transient
        of this initial estimate, which decays like rho(A - A K C)^t.

    Returns
    -------
    numpy.ndarray
        y_hat with the shape of y, float64; ``y_hat[..., t, :]`` predicts ``y[..., t, :]``.
    """
    y = np.asarray(y, np.float64)
    W, G = kalman_predictor_matrices(A, C, K)
    C = np.asarray(C, np.float64)
    x_hat = np.zeros(y.shape[:-2] + (W.shape[0],))
    if x0 is not None:
        x_hat = x_hat + np.asarray(x0, np.float64)
    y_hat = np.empty_like(y)
    for t in range(y.shape[-2]):
        y_hat[..., t, :] = x_hat @ C.T
        x_hat = x_hat @ W.T + y[..., t, :] @ G.T
    return y_hat


def time_varying_kalman_predict(
    y: np.ndarray, A: np.ndarray, C: np.ndarray, Q: np.ndarray, R: np.ndarray, P0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (time-varying gain) Kalman one-step predictions, from x_hat_1 = 0 and Cov(x_1) = P0.

    With P0 the stationary state covariance this is the optimal predictor for a stationary
    sequence from its very first step; its covariance P_t converges to the DARE solution.

    Parameters
    ----------
    y
        Observations (..., T, p).
    A, C, Q, R
        Model matrices.
    P0
        (n, n) prior covariance of x_1.

    Returns
    -------
    y_hat : numpy.ndarray
        (..., T, p) predictions, as in :func:`kalman_predict`.
    P : numpy.ndarray
        (T, n, n); ``P[t]`` is the error covariance of the state prediction behind
        ``y_hat[..., t, :]``.
    """
    y = np.asarray(y, np.float64)
    A, C, Q, R = (np.asarray(M, np.float64) for M in (A, C, Q, R))
    n, T = A.shape[0], y.shape[-2]
    x_hat = np.zeros(y.shape[:-2] + (n,))
    P_t = np.asarray(P0, np.float64)
    y_hat = np.empty_like(y)
    P = np.empty((T, n, n))
    for t in range(T):
        P[t] = P_t
        y_hat[..., t, :] = x_hat @ C.T
        K_t = np.linalg.solve(C @ P_t @ C.T + R, C @ P_t).T
        x_hat = (x_hat + (y[..., t, :] - y_hat[..., t, :]) @ K_t.T) @ A.T
        P_t = A @ (P_t - K_t @ C @ P_t) @ A.T + Q
        P_t = 0.5 * (P_t + P_t.T)
    return y_hat, P


def prediction_mse_floor(C: np.ndarray, P: np.ndarray, R: np.ndarray) -> float:
    """Steady-state one-step prediction MSE, tr(C P C^T + R) / p, averaged over the p outputs.

    The innovation y_t - y_hat_t has covariance C P C^T + R; dividing its trace by p makes the floor
    comparable with an MSE averaged over output dimensions (``mean((y - y_hat) ** 2)``), as a
    trained RNN's loss is. Multiply by p for the summed-over-outputs version tr(C P C^T + R).

    Returns
    -------
    float
        Minimum achievable mean squared error per output dimension (units of y squared).
    """
    C, P, R = (np.asarray(M, np.float64) for M in (C, P, R))
    return float(np.trace(C @ P @ C.T + R) / C.shape[0])


def mse_gap_db(mse_model: float, mse_kf: float) -> float:
    """Gap to the Kalman optimum in decibels, 10 log10(mse_model / mse_kf) (0 dB = optimal)."""
    return float(10.0 * np.log10(mse_model / mse_kf))


def match_eigenvalues(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
    """Match two eigenvalue multisets one to one and report the worst mismatch.

    The assignment minimises the total distance sum |a_i - b_pi(i)| (Hungarian algorithm,
    :func:`scipy.optimize.linear_sum_assignment`). If b has more elements than a (an RNN larger than
    the filter), every a_i gets a distinct partner and the rest of b is ignored.

    Parameters
    ----------
    a
        (k,) reference eigenvalues, e.g. eig(A - A K C).
    b
        (m,) eigenvalues to match, m >= k, e.g. eig of a trained RNN's W.

    Returns
    -------
    b_matched : numpy.ndarray
        (k,) complex; ``b_matched[i]`` is the partner of ``a[i]``.
    max_error : float
        max_i |a_i - b_matched_i|.
    """
    a = np.asarray(a, np.complex128)
    b = np.asarray(b, np.complex128)
    if b.size < a.size:
        raise ValueError("b must have at least as many eigenvalues as a")
    rows, cols = scipy.optimize.linear_sum_assignment(np.abs(a[:, None] - b[None, :]))
    b_matched = np.empty_like(a)
    b_matched[rows] = b[cols]
    return b_matched, float(np.max(np.abs(a - b_matched)))


def linearised_recurrence(model: RecurrentModel,
                          n_iter: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """An Elman network's recurrence linearised at its zero-input fixed point.

    For the linear family this is (W, U, C) itself. For a tanh network h <- tanh(W h + U x + b),
    the fixed point h* = tanh(W h* + b) is found by iteration from 0 and the map is linearised
    there: W_lin = D W, U_lin = D U with D = diag(1 - h*^2); the read-out is C.

    Returns
    -------
    W : numpy.ndarray
        (H, H).
    U : numpy.ndarray
        (H, m), acting on the network's input.
    C : numpy.ndarray
        (p, H), producing the network's output.
    residual : float
        ||tanh(W h* + b) - h*|| of the fixed point (0 for the linear family).
    """
    W = model.recurrent_weight.detach().double().numpy()
    U = model.input_weight.detach().double().numpy()
    C = model.output_layer.weight.detach().double().numpy()
    if model.nonlinearity == "linear":
        return W, U, C, 0.0
    b = (model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0).detach().double().numpy()
    h = np.zeros(W.shape[0])
    for _ in range(n_iter):
        h = np.tanh(W @ h + b)
    residual = float(np.linalg.norm(np.tanh(W @ h + b) - h))
    D = 1.0 - h**2
    return D[:, None] * W, D[:, None] * U, C, residual


def balanced_truncation(W: np.ndarray, U: np.ndarray, C: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Balanced truncation of the discrete-time system (W, U, C) to ``order`` states.

    The controllability and observability Gramians P = W P W^T + U U^T and
    Q = W^T Q W + C^T C are balanced by the square-root method and the states with the smallest
    Hankel singular values dropped (Moore 1981, IEEE Trans. Automat. Control 26:17; Laub, Heath,
    Paige & Ward 1987, IEEE Trans. Automat. Control 32:115). A network with more hidden units than
    the system has states realises the predictor with extra modes that barely reach the output;
    truncation keeps the ``order`` modes that carry the input-output map, whose eigenvalues are
    then compared with eig(A - A K C) one to one.

    Parameters
    ----------
    W, U, C
        (H, H), (H, p), (p, H); rho(W) < 1.
    order
        States kept (<= H).

    Returns
    -------
    W_reduced : numpy.ndarray
        (order, order).
    hankel_singular_values : numpy.ndarray
        (H,) in decreasing order.
    """
    P = scipy.linalg.solve_discrete_lyapunov(W, U @ U.T)
    Q = scipy.linalg.solve_discrete_lyapunov(W.T, C.T @ C)
    L_c, L_o = _psd_factor(P), _psd_factor(Q)
    left, sigma, right_t = np.linalg.svd(L_o.T @ L_c)
    inv_sqrt = 1.0 / np.sqrt(sigma[:order])
    T = L_c @ right_t[:order].T * inv_sqrt  # (H, order)
    T_inv = (inv_sqrt[:, None] * left[:, :order].T) @ L_o.T  # (order, H)
    return T_inv @ W @ T, sigma


def markov_parameters(W: np.ndarray, U: np.ndarray, C: np.ndarray, n_lags: int) -> np.ndarray:
    """Impulse response of a linear system, C W^k U for k = 0 .. n_lags - 1: (n_lags, p, m)."""
    out = np.empty((n_lags, C.shape[0], U.shape[1]))
    response = U.copy()
    for k in range(n_lags):
        out[k] = C @ response
        response = W @ response
    return out


def _psd_factor(S: np.ndarray) -> np.ndarray:
    """L with L L^T = S for a symmetric positive semi-definite S (eigen-decomposition)."""
    eigenvalues, V = np.linalg.eigh(0.5 * (S + S.T))
    return V * np.sqrt(np.clip(eigenvalues, 0.0, None))
