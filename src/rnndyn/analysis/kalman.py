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

How close is close enough (:func:`realisation_sensitivity`, :func:`pseudospectral_distance`): an
impulse-response error dh costs the excess one-step MSE sum_jk tr(dh_j Gamma(k - j) dh_k^T), a block
Toeplitz form in the observations' autocovariance Gamma whose smallest eigenvalue is at least
ess inf of their spectral density, itself >= lambda_min(R) (the density is C(...)Q(...)^H C^T + R);
so a bound on the excess MSE bounds ||dh||. Eigenvalues follow the realisation, and a realisation
perturbation of norm eps moves an eigenvalue anywhere in the eps-pseudospectrum: by about kappa eps
for a simple eigenvalue of condition kappa, by up to eps^(1/m) in a Jordan block of size m
(Trefethen & Embree, "Spectra and Pseudospectra", 2005, ch. 2 and 52).
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


def autocovariance_toeplitz(A: np.ndarray, C: np.ndarray, Q: np.ndarray, R: np.ndarray, n_lags: int) -> np.ndarray:
    """Covariance of the stacked past observations (y_t, y_{t-1}, .., y_{t-n_lags+1}) of the stationary system.

    Block (j, k) is E[y_{t-j} y_{t-k}^T] = Gamma(k - j), with Gamma(0) = C Sigma C^T + R and
    Gamma(tau) = C A^tau Sigma C^T for tau >= 1 (Sigma the stationary state covariance); Gamma(-tau) =
    Gamma(tau)^T. The excess one-step MSE of a predictor whose impulse response is off by
    dh = (dh_0, .., dh_{n_lags-1}) is tr(D T D^T), D = [dh_0 .. dh_{n_lags-1}] (p, n_lags p), since the
    Kalman predictor's innovation is orthogonal to the past. T's eigenvalues lie between the extreme
    values of the observations' spectral density, so lambda_min(T) >= lambda_min(R) (Grenander &
    Szego, "Toeplitz Forms and Their Applications", 1958, ch. 5).

    Parameters
    ----------
    A, C, Q, R
        Model matrices; rho(A) < 1.
    n_lags
        Blocks per side.

    Returns
    -------
    numpy.ndarray
        (n_lags p, n_lags p), symmetric, float64.
    """
    A, C, Q, R = (np.asarray(M, np.float64) for M in (A, C, Q, R))
    p = C.shape[0]
    lagged = scipy.linalg.solve_discrete_lyapunov(A, Q) @ C.T  # A^tau Sigma C^T, tau = 0, 1, ...
    gamma = np.empty((n_lags, p, p))
    for tau in range(n_lags):
        gamma[tau] = C @ lagged
        lagged = A @ lagged
    gamma[0] += R
    T = np.empty((n_lags * p, n_lags * p))
    for j in range(n_lags):
        for k in range(n_lags):
            T[j * p:(j + 1) * p, k * p:(k + 1) * p] = gamma[k - j] if k >= j else gamma[j - k].T
    return T


def excess_mse(delta_markov: np.ndarray, A: np.ndarray, C: np.ndarray, Q: np.ndarray, R: np.ndarray) -> float:
    """Excess one-step MSE (summed over outputs) of a linear predictor whose impulse response differs
    from the Kalman predictor's by ``delta_markov`` (n_lags, p, p), in the stationary regime.

    Exact for a linear predictor whose Markov parameters beyond n_lags agree with the Kalman ones;
    see :func:`autocovariance_toeplitz`.
    """
    n_lags, p, _ = delta_markov.shape
    D = np.transpose(delta_markov, (1, 0, 2)).reshape(p, n_lags * p)
    return float(np.trace(D @ autocovariance_toeplitz(A, C, Q, R, n_lags) @ D.T))


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


def balanced_truncation(
    W: np.ndarray, U: np.ndarray, C: np.ndarray, order: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Balanced truncation of the discrete-time system (W, U, C) to ``order`` states.

    The controllability and observability Gramians P = W P W^T + U U^T and
    Q = W^T Q W + C^T C are balanced by the square-root method and the states with the smallest
    Hankel singular values dropped (Moore 1981, IEEE Trans. Automat. Control 26:17; Laub, Heath,
    Paige & Ward 1987, IEEE Trans. Automat. Control 32:115). A network with more hidden units than
    the system has states realises the predictor with extra modes that barely reach the output;
    truncation keeps the ``order`` modes that carry the input-output map, whose eigenvalues are
    then compared with eig(A - A K C) one to one. With ``order`` = H it is the balanced
    realisation itself: both Gramians equal diag(hankel_singular_values), a basis fixed by the
    input-output map up to the signs of the states (for distinct singular values).

    Parameters
    ----------
    W, U, C
        (H, H), (H, m), (p, H); rho(W) < 1.
    order
        States kept (<= H).

    Returns
    -------
    W_reduced, U_reduced, C_reduced : numpy.ndarray
        (order, order), (order, m), (p, order).
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
    return T_inv @ W @ T, T_inv @ U, C @ T, sigma


def markov_parameters(W: np.ndarray, U: np.ndarray, C: np.ndarray, n_lags: int) -> np.ndarray:
    """Impulse response of a linear system, C W^k U for k = 0 .. n_lags - 1: (n_lags, p, m)."""
    out = np.empty((n_lags, C.shape[0], U.shape[1]))
    response = U.copy()
    for k in range(n_lags):
        out[k] = C @ response
        response = W @ response
    return out


def markov_jacobian(W: np.ndarray, U: np.ndarray, C: np.ndarray, n_lags: int) -> np.ndarray:
    """Derivative of the Markov parameters C W^k U (k < n_lags) with respect to the realisation.

    d(C W^k U) = dC W^k U + C W^k dU + sum_{j<k} C W^j dW W^(k-1-j) U. The similarity directions
    (dW = W X - X W, dU = -X U, dC = C X) leave every Markov parameter unchanged, so for a minimal
    realisation and n_lags >= n the null space is exactly those n^2 directions.

    Parameters
    ----------
    W, U, C
        (n, n), (n, m), (p, n).
    n_lags
        Markov parameters differentiated.

    Returns
    -------
    numpy.ndarray
        (n_lags p m, n^2 + n m + p n): rows ordered as ``markov_parameters(...).ravel()``, columns as
        ``concatenate([dW.ravel(), dU.ravel(), dC.ravel()])``.
    """
    n, m, p = W.shape[0], U.shape[1], C.shape[0]
    powers = np.empty((n_lags, n, n))
    powers[0] = np.eye(n)
    for k in range(1, n_lags):
        powers[k] = W @ powers[k - 1]
    left, right = C @ powers, powers @ U  # C W^j (n_lags, p, n), W^j U (n_lags, n, m)
    d_W = np.zeros((n_lags, p, m, n, n))
    for k in range(1, n_lags):
        d_W[k] = np.einsum("jac,jdb->abcd", left[:k], right[k - 1::-1])
    d_U = np.einsum("kac,bB->kabcB", left, np.eye(m))  # d h_k[a, b] / d U[c, B]
    d_C = np.einsum("aA,kcb->kabAc", np.eye(p), right)  # d h_k[a, b] / d C[A, c]
    rows = n_lags * p * m
    return np.concatenate([d_W.reshape(rows, n * n), d_U.reshape(rows, n * m), d_C.reshape(rows, p * n)], axis=1)


def realisation_sensitivity(W: np.ndarray, U: np.ndarray, C: np.ndarray, n_lags: int) -> float:
    """The largest change of the recurrent matrix per unit change of the impulse response.

    To first order, an impulse-response error dh (the first ``n_lags`` Markov parameters) is
    produced by the realisation change J^+ dh of least norm (J from :func:`markov_jacobian`, the
    similarity directions, which change nothing, projected out); this returns the operator norm
    of its recurrent block, max ||dW||_F / ||dh||_F. Times a bound on ||dh||_F it bounds ||dW||_2.
    It depends on the basis of (W, U, C): pass a balanced realisation (:func:`balanced_truncation`),
    whose basis is fixed by the input-output map.

    Returns
    -------
    float
        sigma_max of the (n^2, n_lags p m) recurrent block of pinv(J).
    """
    n = W.shape[0]
    J = markov_jacobian(W, U, C, n_lags)
    # The n^2 similarity directions are an exact null space; a cut-off far above round-off of J's
    # O(1) entries and far below its identifiable singular values separates them.
    J_pinv = np.linalg.pinv(J, rcond=1e-8)
    return float(np.linalg.norm(J_pinv[: n * n], 2))


def markov_estimation_error(W: np.ndarray, U: np.ndarray, C: np.ndarray, y: np.ndarray, weight: np.ndarray,
                            innovation_cov: np.ndarray, n_lags: int, *, n_observations: int | None = None) -> float:
    """Root-mean-square error of the first ``n_lags`` Markov parameters of the predictor (W, U, C)
    when it is fitted by least squares to N observations, to first order in 1/N.

    A prediction-error estimate minimising sum_t e_t^T M e_t near the optimum theta has covariance
    F^+ G F^+ / N with F = E[psi^T M psi] and G = E[psi^T M S M psi] (psi_t = d y_hat_t / d theta,
    S the innovation covariance; Ljung, "System Identification", 1999, sec. 9.3; the pseudo-inverse
    drops the similarity directions, which the Markov parameters do not see). F and G are averaged
    over the sequences ``y``, run from a zero state as the networks are; the innovations must be
    white with covariance S given the past (training sequences that start from x_1 ~ N(0, P)).
    The result is sqrt(E ||dh||_F^2) = sqrt(tr(J F^+ G F^+ J^T) / N), J from :func:`markov_jacobian`.

    Parameters
    ----------
    W, U, C
        (n, n), (n, p), (p, n): the optimal predictor (the Kalman predictor), any basis.
    y
        (S, T + 1, p) sequences: inputs y[:, :-1], targets y[:, 1:].
    weight
        (p,) diagonal of M, each output's weight in the loss (1 / scale^2 for data divided by scale).
    innovation_cov
        (p, p) S.
    n_lags
        Markov parameters compared.
    n_observations
        N, predicted steps the fit sees; default all of ``y``, S T. Pass the training set's size to
        average F and G over a subset.

    Returns
    -------
    float
        sqrt(E ||h_fitted - h||_F^2) over the first n_lags Markov parameters.
    """
    W, U, C, y = (np.asarray(M, np.float64) for M in (W, U, C, y))
    n, m, p = W.shape[0], U.shape[1], C.shape[0]
    n_sequences, n_steps = y.shape[0], y.shape[1] - 1
    n_w, n_u = n * n, n * m
    root = np.sqrt(np.asarray(weight, np.float64))
    # M^1/2 S M^1/2 = L L^T: G is then a Gram matrix like F, of the outputs mixed by L^T.
    L = np.linalg.cholesky(root[:, None] * np.asarray(innovation_cov, np.float64) * root[None, :])
    d = n_w + n_u + p * n
    F, G = np.zeros((d, d)), np.zeros((d, d))
    x = np.zeros((n_sequences, n))
    dx = np.zeros((n_sequences, d, n))  # d x_hat / d theta
    for t in range(n_steps):
        source = np.zeros((n_sequences, d, n))
        for a in range(n):  # dW_ab moves x_hat_a by x_b, dU_aj by y_j
            source[:, a * n:(a + 1) * n, a] = x
            source[:, n_w + a * m:n_w + (a + 1) * m, a] = y[:, t]
        dx = dx @ W.T + source
        x = x @ W.T + y[:, t] @ U.T
        psi = dx @ C.T  # (S, d, p)
        for a in range(p):  # dC_ab moves y_hat_a by x_b
            psi[:, n_w + n_u + a * n:n_w + n_u + (a + 1) * n, a] += x
        weighted = np.swapaxes(psi * root, 1, 2).reshape(-1, d)  # rows M^1/2 psi, one per (sequence, output)
        F += weighted.T @ weighted
        mixed = (L.T @ np.swapaxes(psi * root, 1, 2)).reshape(-1, d)
        G += mixed.T @ mixed
    samples = n_sequences * n_steps
    F, G = F / samples, G / samples
    n_observations = samples if n_observations is None else n_observations
    # F's null space is the n^2 similarity directions, exactly (up to round-off of O(1) entries).
    F_pinv = np.linalg.pinv(F, rcond=1e-10, hermitian=True)
    J = markov_jacobian(W, U, C, n_lags)
    covariance = F_pinv @ G @ F_pinv / n_observations
    return float(np.sqrt(np.trace(J @ covariance @ J.T)))


def pseudospectral_distance(W: np.ndarray, z: np.ndarray) -> np.ndarray:
    """sigma_min(z I - W): the norm of the smallest perturbation E with z an eigenvalue of W + E.

    z lies in the eps-pseudospectrum of W when this is <= eps (Trefethen & Embree 2005, ch. 2), so a
    set of eigenvalues of a perturbed W is explained by a perturbation of norm eps exactly when each
    of them is within eps here. Near a simple eigenvalue of condition kappa it grows like
    |z - lambda| / kappa; near a Jordan block of size m like |z - lambda|^m.

    Parameters
    ----------
    W
        (n, n).
    z
        Points of the complex plane, any shape.

    Returns
    -------
    numpy.ndarray
        Float64 of the shape of z.
    """
    z = np.asarray(z, np.complex128)
    shifted = z.reshape(-1)[:, None, None] * np.eye(W.shape[0]) - np.asarray(W, np.complex128)
    return np.linalg.svd(shifted, compute_uv=False)[:, -1].reshape(z.shape)


def eigenvalue_condition_numbers(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues of W and their condition numbers kappa_i = ||x_i|| ||y_i|| / |y_i^H x_i|.

    A perturbation E moves a simple eigenvalue by kappa_i ||E|| to first order (Wilkinson 1965,
    "The Algebraic Eigenvalue Problem", ch. 2); kappa = 1 for a normal matrix, infinite for a
    defective eigenvalue. Each eigenvalue of a repeated one gets its left vector from the same
    eigen-decomposition (inverse of the right eigenvectors), so a semisimple repeated eigenvalue
    with well-conditioned eigenvectors has a finite kappa.

    Returns
    -------
    eigenvalues : numpy.ndarray
        (n,) complex.
    kappa : numpy.ndarray
        (n,) float, >= 1.
    """
    eigenvalues, right = np.linalg.eig(np.asarray(W, np.float64))
    left_h = np.linalg.inv(right)  # rows y_i^H with y_i^H x_j = delta_ij
    kappa = np.linalg.norm(right, axis=0) * np.linalg.norm(left_h, axis=1)
    return eigenvalues, kappa


def _psd_factor(S: np.ndarray) -> np.ndarray:
    """L with L L^T = S for a symmetric positive semi-definite S (eigen-decomposition)."""
    eigenvalues, V = np.linalg.eigh(0.5 * (S + S.T))
    return V * np.sqrt(np.clip(eigenvalues, 0.0, None))
