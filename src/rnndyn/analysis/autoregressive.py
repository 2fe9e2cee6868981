"""Linear autoregressive model AR(p): the linear baseline for forecasting a scalar series.

    x_t = c + sum_{k=1}^{p} a_k x_{t-k} + e_t

fitted by (optionally ridge-regularised) least squares on all windows of the series, and run
closed loop by feeding its own predictions back. A linear model cannot produce chaos: its
closed-loop forecast of Lorenz x decays to a fixed point or an oscillation, which is the point of
the comparison with a nonlinear RNN.

Beside it, the linear-Gaussian nulls of the DSR comparison: the fitted (vector) AR model driven by
its own residual noise (:func:`fit_linear_gaussian_null` by least squares, :func:`yule_walker_null`,
stable by construction; :func:`simulate_linear_gaussian_null`),
and amplitude-adjusted Fourier-transform surrogates (:func:`aaft_surrogates`). Unlike the
noiseless rollout, they keep the data's variance and spectrum, so a network has to beat a null
that can win.

References
----------
G. E. P. Box, G. M. Jenkins, G. C. Reinsel, G. M. Ljung, "Time Series Analysis: Forecasting and
Control", 5th ed., Wiley (2015), ch. 3 and 7.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AutoregressiveCoefficients:
    """AR(p) coefficients.

    Attributes
    ----------
    weights
        (p,) a_1 .. a_p; ``weights[k - 1]`` multiplies x_{t-k}.
    intercept
        c, in the series' units.
    """

    weights: np.ndarray
    intercept: float

    @property
    def order(self) -> int:
        return self.weights.shape[0]


def fit_autoregressive(
    x: np.ndarray, order: int, *, ridge: float = 0.0
) -> AutoregressiveCoefficients:
    """Least-squares AR(p) fit, with an intercept and an optional ridge penalty on the weights.

    Minimises  mean_t (x_t - c - sum_k a_k x_{t-k})^2 + ridge * sum_k a_k^2  over all windows
    that lie inside one series (windows never straddle two series of a batch). The intercept is
    not penalised. The penalty is relative to the mean squared error, so ``ridge`` does not depend
    on the number of windows.

    Parameters
    ----------
    x
        One series (T,) or a batch of equally long series (B, T), T > order.
    order
        p, the number of lags.
    ridge
        Penalty weight, >= 0, in the series' squared units.

    Returns
    -------
    AutoregressiveCoefficients
        Weights (p,) and intercept.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if x.ndim != 2 or x.shape[1] <= order or order < 1:
        raise ValueError(f"need series (B, T) with T > order >= 1, got {x.shape}, order {order}")
    windows = np.lib.stride_tricks.sliding_window_view(x, order + 1, axis=1).reshape(-1, order + 1)
    # Column k - 1 holds x_{t-k}: reverse the window so that the newest lag comes first.
    lags, target = windows[:, order - 1 :: -1], windows[:, order]
    lag_mean, target_mean = lags.mean(axis=0), target.mean()
    centred_lags = lags - lag_mean
    gram = centred_lags.T @ centred_lags / lags.shape[0] + ridge * np.eye(order)
    moment = centred_lags.T @ (target - target_mean) / lags.shape[0]
    weights = np.linalg.solve(gram, moment)
    return AutoregressiveCoefficients(weights, float(target_mean - lag_mean @ weights))


def autoregressive_rollout(
    coefs: AutoregressiveCoefficients, warmup: np.ndarray, n_steps: int
) -> np.ndarray:
    """Closed-loop AR(p) forecast: each prediction is fed back as the newest lag.

    Parameters
    ----------
    coefs
        From :func:`fit_autoregressive`.
    warmup
        (B, p) the last p observed values of each series, oldest first (``warmup[:, -1]`` is the
        newest), or (p,) for one series.
    n_steps
        Number of steps to predict.

    Returns
    -------
    numpy.ndarray
        (B, n_steps) predictions x_{t+1} .. x_{t+n_steps} ((n_steps,) for a (p,) warm-up).
    """
    warmup = np.asarray(warmup, dtype=np.float64)
    single = warmup.ndim == 1
    history = np.atleast_2d(warmup)
    if history.shape[1] != coefs.order:
        raise ValueError(f"warm-up needs {coefs.order} values per series, got {history.shape[1]}")
    # Newest first, to line up with weights[k - 1] * x_{t-k}.
    state = history[:, ::-1].copy()
    predictions = np.empty((history.shape[0], n_steps))
    for step in range(n_steps):
        predictions[:, step] = coefs.intercept + state @ coefs.weights
        state = np.concatenate([predictions[:, step : step + 1], state[:, :-1]], axis=1)
    return predictions[0] if single else predictions


# --------------------------------------------------------------------------------------------
# Linear-Gaussian nulls: a linear model of the same data that keeps its noise, so that it keeps
# the data's variance and autocorrelation instead of decaying to the mean; and amplitude-adjusted
# Fourier-transform surrogates. A network's reconstruction must beat these to show it learnt
# more than the data's linear (second-order) structure.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinearGaussianNull:
    """A vector AR(p) driven by Gaussian noise: x_t = c + sum_{k=1}^{p} A_k x_{t-k} + e_t, e_t ~ N(0, Sigma).

    Attributes
    ----------
    weights
        (p, d, d); ``weights[k - 1]`` is A_k, which multiplies x_{t-k} (a column vector).
    intercept
        (d,) c.
    noise_covariance
        (d, d) Sigma, the covariance of the fit's one-step residuals.
    """

    weights: np.ndarray
    intercept: np.ndarray
    noise_covariance: np.ndarray

    @property
    def order(self) -> int:
        return self.weights.shape[0]

    @property
    def dim(self) -> int:
        return self.weights.shape[1]


def _as_series_batch(x: np.ndarray) -> np.ndarray:
    """(T,) -> (1, T, 1); (B, T) -> (B, T, 1) (scalar series, as in fit_autoregressive); (B, T, d)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return x[None, :, None]
    if x.ndim == 2:
        return x[:, :, None]
    if x.ndim == 3:
        return x
    raise ValueError(f"need (T,), (B, T) or (B, T, d), got shape {x.shape}")


def fit_linear_gaussian_null(x: np.ndarray, order: int, *, ridge: float = 0.0) -> LinearGaussianNull:
    """Least-squares vector AR(p) of a series and the covariance of its residuals.

    The weights minimise mean_t |x_t - c - sum_k A_k x_{t-k}|^2 + ridge * sum_k |A_k|_F^2 over all
    windows inside one series (never straddling two series of a batch), as
    :func:`fit_autoregressive` does for one coordinate (same weights for d = 1). The noise
    covariance is that of the residuals r_t = x_t - c - sum_k A_k x_{t-k},

        Sigma = sum_t r_t r_t^T / (n_windows - p d - 1),

    divided by the residual degrees of freedom (p d weights and one intercept per coordinate), so
    that a driven run of the fitted model has the data's one-step variance without the fit's
    downward bias.

    Parameters
    ----------
    x
        (T,) one scalar series, (B, T) a batch of scalar series, or (B, T, d) a batch of
        d-dimensional series; T > order.
    order
        p, the number of lags, >= 1.
    ridge
        Penalty weight, >= 0.

    Returns
    -------
    LinearGaussianNull
    """
    x = _as_series_batch(x)
    n_series, length, dim = x.shape
    if length <= order or order < 1:
        raise ValueError(f"need T > order >= 1, got T = {length}, order {order}")
    # windows[w, j, :] = x_{t - order + j}; lags newest first, flattened (x_{t-1}, ..., x_{t-p}).
    windows = np.lib.stride_tricks.sliding_window_view(x, order + 1, axis=1)  # (B, W, d, p + 1)
    windows = np.moveaxis(windows, -1, -2).reshape(-1, order + 1, dim)
    lags = windows[:, order - 1 :: -1].reshape(-1, order * dim)
    target = windows[:, order]
    lag_mean, target_mean = lags.mean(axis=0), target.mean(axis=0)
    centred_lags = lags - lag_mean
    gram = centred_lags.T @ centred_lags / lags.shape[0] + ridge * np.eye(order * dim)
    moment = centred_lags.T @ (target - target_mean) / lags.shape[0]
    stacked = np.linalg.solve(gram, moment)  # (p d, d): x_t^T = c^T + lags^T stacked
    intercept = target_mean - lag_mean @ stacked
    residuals = target - intercept - lags @ stacked
    dof = residuals.shape[0] - order * dim - 1
    if dof < 1:
        raise ValueError(f"{residuals.shape[0]} windows are too few for {order * dim + 1} parameters per coordinate")
    covariance = residuals.T @ residuals / dof
    weights = stacked.reshape(order, dim, dim).transpose(0, 2, 1)
    return LinearGaussianNull(weights, intercept, covariance)


def yule_walker_null(x: np.ndarray, order: int) -> LinearGaussianNull:
    """Vector AR(p) from the Yule–Walker equations of the biased sample autocovariances.

    With the centred series (one mean per coordinate, over every series of the batch) and the
    biased estimator Gamma(k) = sum_t x_t x_{t-k}^T / n (n all samples; pairs never straddle two
    series), the weights solve Gamma(k) = sum_j A_j Gamma(k - j), k = 1..p (Gamma(-m) =
    Gamma(m)^T), and the noise covariance is Sigma = Gamma(0) - sum_j A_j Gamma(j)^T. The biased
    estimator makes the block-Toeplitz matrix positive definite, and the fitted model is then
    stable (Whittle 1963), with the data's lag-0..p autocovariances as its own: a noise-driven
    run keeps the data's variance by construction. Least squares (:func:`fit_linear_gaussian_null`)
    does not guarantee either: on short series of a smooth signal (Lorenz x at dt = 0.01) its
    AR(8) can be explosive, or stable with a far smaller stationary variance.

    Parameters
    ----------
    x
        (T,), (B, T) or (B, T, d), T > order.
    order
        p >= 1.

    Returns
    -------
    LinearGaussianNull

    References
    ----------
    P. Whittle, "On the fitting of multivariate autoregressions, and the approximate canonical
    factorization of a spectral density matrix", Biometrika 50, 129 (1963); Box et al., ch. 3.
    """
    x = _as_series_batch(x)
    n_series, length, dim = x.shape
    if length <= order or order < 1:
        raise ValueError(f"need T > order >= 1, got T = {length}, order {order}")
    mean = x.reshape(-1, dim).mean(axis=0)
    centred = x - mean
    n = n_series * length
    gamma = [np.einsum("bti,btj->ij", centred[:, k:], centred[:, : length - k]) / n for k in range(order + 1)]

    def lagged(k: int) -> np.ndarray:
        return gamma[k] if k >= 0 else gamma[-k].T

    # W = [A_1 .. A_p] (d, p d) solves W M = R, M's block (j, k) = Gamma(k - j), R = [Gamma(1) .. Gamma(p)].
    blocks = np.block([[lagged(k - j) for k in range(1, order + 1)] for j in range(1, order + 1)])
    stacked = np.linalg.solve(blocks.T, np.hstack([gamma[k] for k in range(1, order + 1)]).T).T
    weights = stacked.reshape(dim, order, dim).transpose(1, 0, 2)
    covariance = gamma[0] - sum(weights[j] @ gamma[j + 1].T for j in range(order))
    intercept = (np.eye(dim) - weights.sum(axis=0)) @ mean
    return LinearGaussianNull(weights, intercept, (covariance + covariance.T) / 2)


def simulate_linear_gaussian_null(
    null: LinearGaussianNull, warmup: np.ndarray, n_steps: int, rng: np.random.Generator
) -> np.ndarray:
    """Run the fitted model driven by fresh Gaussian noise from the last ``p`` observed values.

    Each step is x_t = c + sum_k A_k x_{t-k} + e_t with e_t ~ N(0, Sigma) drawn from ``rng``
    (Sigma's Cholesky factor times standard normals; the draws are in time order, one (B, d)
    block per step, so a given generator state gives one series). Unlike the noiseless
    :func:`autoregressive_rollout`, which relaxes to the model's mean, a stable fitted model run
    this way keeps the data's stationary variance and autocorrelation: the linear-Gaussian null.

    Parameters
    ----------
    null
        From :func:`fit_linear_gaussian_null`.
    warmup
        The last p observed values, oldest first: (p,) for one scalar series, (B, p) for a batch
        of scalar series, (B, p, d) in general.
    n_steps
        Number of steps to generate.
    rng
        The source of the noise.

    Returns
    -------
    numpy.ndarray
        The generated x_{t+1} .. x_{t+n_steps}: (n_steps,), (B, n_steps) or (B, n_steps, d),
        shaped like the warm-up.
    """
    warmup = np.asarray(warmup, dtype=np.float64)
    history = _as_series_batch(warmup)
    if history.shape[1:] != (null.order, null.dim):
        raise ValueError(f"warm-up needs (B, {null.order}, {null.dim}) values, got {history.shape}")
    factor = np.linalg.cholesky(null.noise_covariance)
    # state[:, k - 1] is x_{t-k}: newest first, to line up with weights[k - 1].
    state = history[:, ::-1].copy()
    out = np.empty((history.shape[0], n_steps, null.dim))
    for step in range(n_steps):
        noise = rng.standard_normal((history.shape[0], null.dim)) @ factor.T
        value = null.intercept + np.einsum("kij,bkj->bi", null.weights, state) + noise
        out[:, step] = value
        state = np.concatenate([value[:, None], state[:, :-1]], axis=1)
    if warmup.ndim == 1:
        return out[0, :, 0]
    if warmup.ndim == 2:
        return out[:, :, 0]
    return out


def aaft_surrogates(x: np.ndarray, n_surrogates: int, rng: np.random.Generator) -> np.ndarray:
    """Amplitude-adjusted Fourier-transform surrogates of a scalar series (Theiler et al. 1992).

    Each surrogate (1) reorders a sorted standard-normal sample by the ranks of ``x`` (a Gaussian
    series with the ranks of x), (2) randomises that series' Fourier phases (uniform on [0, 2 pi)
    for every frequency strictly between 0 and Nyquist; the zero frequency, and the Nyquist one for
    even T, keep theirs so that the result is real), (3) gives the sorted values of ``x`` the ranks
    of the phase-randomised series. The surrogate has exactly the values of x (the same amplitude
    distribution) and approximately its power spectrum, and nothing beyond: it is the null of a
    Gaussian linear process seen through a static monotone measurement function.

    Parameters
    ----------
    x
        (T,) the series.
    n_surrogates
        How many surrogates.
    rng
        The source of the normal sample and the phases.

    Returns
    -------
    numpy.ndarray
        (n_surrogates, T).

    References
    ----------
    J. Theiler, S. Eubank, A. Longtin, B. Galdrikian, J. D. Farmer, "Testing for nonlinearity in
    time series: the method of surrogate data", Physica D 58, 77 (1992).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] < 4:
        raise ValueError(f"need one series (T,), T >= 4, got shape {x.shape}")
    length = x.shape[0]
    ranks = np.argsort(np.argsort(x, kind="stable"), kind="stable")
    sorted_x = np.sort(x)
    out = np.empty((n_surrogates, length))
    for i in range(n_surrogates):
        gaussian = np.sort(rng.standard_normal(length))[ranks]
        spectrum = np.fft.rfft(gaussian)
        phases = rng.uniform(0.0, 2.0 * np.pi, spectrum.shape[0])
        phases[0] = 0.0
        if length % 2 == 0:
            phases[-1] = 0.0
        randomised = np.fft.irfft(spectrum * np.exp(1j * phases), n=length)
        out[i] = sorted_x[np.argsort(np.argsort(randomised, kind="stable"), kind="stable")]
    return out
