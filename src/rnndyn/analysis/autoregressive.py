"""Linear autoregressive model AR(p): the linear baseline for forecasting a scalar series.

    x_t = c + sum_{k=1}^{p} a_k x_{t-k} + e_t

fitted by (optionally ridge-regularised) least squares on all windows of the series, and run
closed loop by feeding its own predictions back. A linear model cannot produce chaos: its
closed-loop forecast of Lorenz x decays to a fixed point or an oscillation, which is the point of
the comparison with a nonlinear RNN.

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
