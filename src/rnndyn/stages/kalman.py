"""The Kalman stage (claim ``kalman``): the steady-state Kalman predictor is a linear RNN, and a
trained RNN recovers it.

Data: linear Gaussian state-space systems (KalmanNet's canonical models, made stable, and random
stable ones) at several noise levels. Baselines: the steady-state predictor (DARE), the
time-varying filter and the analytic floor tr(C P C^T + R) / p. Networks ("linear", and a tanh
RNN) are trained by the shared trainer to predict y_{t+1} from y_{<=t}. Analysis: the test MSE gap
10 log10(MSE_RNN / MSE_KF), the eigenvalues of the learned recurrence (after balanced truncation
to the system's order) against eig(A - A K C), and the learned impulse response against the
predictor's.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import scipy.linalg
import torch
import xarray as xr

from rnndyn.analysis.kalman import (
    kalman_predict,
    kalman_predictor_matrices,
    match_eigenvalues,
    mse_gap_db,
    prediction_mse_floor,
    steady_state_kalman,
    time_varying_kalman_predict,
)
from rnndyn.claims import Claim, claim_close
from rnndyn.models import RecurrentModel, build_model
from rnndyn.models.parameters import load_model_parameters
from rnndyn.stages.runs import best_seed, training_store
from rnndyn.systems.lgssm import (
    LinearGaussianSystem,
    kalmannet_canonical_system,
    random_stable_system,
    simulate_lgssm,
    stationary_state_covariance,
)
from rnndyn.training import select_device, train

GAP_TOL_DB = 0.1
# Ours: a tenth of the unit disc's radius, where the overlay of learned and Kalman eigenvalues
# stops looking like one set of points.
EIGENVALUE_TOL = 0.05
N_STANDARD_ERRORS = 3.0


def build_system(spec: dict[str, Any], rng: np.random.Generator | None) -> LinearGaussianSystem:
    """The system named by a config entry.

    Parameters
    ----------
    spec
        ``kind: canonical`` with ``n``, ``rho``, ``noise_ratio_db``, ``r2``
        (:func:`~rnndyn.systems.lgssm.kalmannet_canonical_system`), or ``kind: random`` with ``n``,
        ``p``, ``rho``, ``q``, ``r`` (:func:`~rnndyn.systems.lgssm.random_stable_system`).
    rng
        Draws the random system (unused for canonical ones).
    """
    if spec["kind"] == "canonical":
        return kalmannet_canonical_system(spec["n"], rho=spec["rho"], noise_ratio_db=spec["noise_ratio_db"],
                                          r2=spec["r2"])
    return random_stable_system(rng, spec["n"], spec["p"], spec["rho"], q=spec["q"], r=spec["r"])


def simulate_splits(system: LinearGaussianSystem, rng: np.random.Generator, cfg: dict[str, Any]) -> xr.Dataset:
    """Observation sequences of the system for training, validation and test, with A, C, Q, R.

    Each sequence starts from the stationary distribution. Train and validation sequences have
    ``train_steps + 1`` observations (inputs y_1..y_T, targets y_2..y_{T+1}); test sequences
    ``test_steps + 1``. ``scale`` is the per-output standard deviation of the training split: the
    networks see y / scale (the conditional mean is the optimal predictor under any weighting of
    the outputs, so the rescaling changes the conditioning of training, not its optimum).

    Returns
    -------
    xarray.Dataset
        ``y_<split>`` (sequence, t, output) and ``x_<split>`` (sequence, t, state) for each split,
        ``A``, ``C``, ``Q``, ``R``, ``scale``.
    """
    sizes = {"train": (cfg["n_train"], cfg["train_steps"]), "val": (cfg["n_val"], cfg["train_steps"]),
             "test": (cfg["n_test"], cfg["test_steps"])}
    variables = {}
    for split, (n_sequences, n_steps) in sizes.items():
        x, y = simulate_lgssm(system.A, system.C, system.Q, system.R, n_steps + 1, rng, n_sequences=n_sequences)
        variables[f"y_{split}"] = ((f"sequence_{split}", f"t_{split}", "output"), y,
                                   {"long_name": f"observations y_t ({split} split)", "units": "1"})
        variables[f"x_{split}"] = ((f"sequence_{split}", f"t_{split}", "state"), x,
                                   {"long_name": f"states x_t ({split} split)", "units": "1"})
    y_train = variables["y_train"][1]
    matrices = {
        "A": (("state", "state_col"), system.A, {"long_name": "state transition A", "units": "1"}),
        "C": (("output", "state"), system.C, {"long_name": "observation matrix C", "units": "1"}),
        "Q": (("state", "state_col"), system.Q, {"long_name": "process-noise covariance Q", "units": "1"}),
        "R": (("output", "output_col"), system.R, {"long_name": "observation-noise covariance R", "units": "1"}),
        "scale": (("output",), y_train.reshape(-1, y_train.shape[-1]).std(axis=0),
                  {"long_name": "per-output standard deviation of the training observations", "units": "1"}),
    }
    return xr.Dataset({**variables, **matrices},
                      attrs={"title": "Linear Gaussian state-space observations", "rho_A":
                             float(np.max(np.abs(np.linalg.eigvals(system.A))))})


def system_of(data: xr.Dataset) -> LinearGaussianSystem:
    """The system matrices stored by :func:`simulate_splits`."""
    return LinearGaussianSystem(*(data[name].values for name in ("A", "C", "Q", "R")))


def training_pairs(data: xr.Dataset, split: str, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs y_1..y_T, targets y_2..y_{T+1}) of a split, divided by ``scale``: (N, T, p) each."""
    y = data[f"y_{split}"].values / data["scale"].values
    return torch.as_tensor(y[:, :-1], dtype=dtype), torch.as_tensor(y[:, 1:], dtype=dtype)


def build_network(name: str, data: xr.Dataset, model_cfg: dict[str, Any], generator: torch.Generator,
                  dtype: torch.dtype = torch.float32) -> RecurrentModel:
    """The network of family ``name`` for a system: input and output size p, hidden size
    ``hidden_per_state`` x n."""
    p, n = data.sizes["output"], data.sizes["state"]
    return build_model(name, input_size=p, hidden_size=model_cfg["hidden_per_state"] * n, output_size=p,
                       generator=generator, dtype=dtype, **model_cfg.get("options", {}))


def train_network(data: xr.Dataset, model_name: str, model_cfg: dict[str, Any], *, init: torch.Generator,
                  batches: torch.Generator, device: str, checkpoint_path: str, log: logging.Logger) -> xr.Dataset:
    """Train one network of family ``model_name`` to predict y_{t+1} from y_{<=t} (the training rule).

    Parameters
    ----------
    data
        :func:`simulate_splits` dataset (train and validation splits are used).
    model_name
        The network family (a key of the ``kalman.models`` config).
    model_cfg
        That family's config: ``hidden_per_state``, ``options`` and ``train`` (TrainConfig fields).
    init, batches
        Generators of the initial weights and of the minibatch order.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    checkpoint_path
        Checkpoint of the shared trainer (resumed if present).
    log
        Receives a line per epoch.

    Returns
    -------
    xarray.Dataset
        :func:`training_store` of the trained network; a diverged run is stored with its status.
    """
    model = build_network(model_name, data, model_cfg, init)
    result = train(model, training_pairs(data, "train"), training_pairs(data, "val"), config=model_cfg["train"],
                   seed=batches, device=select_device(device), checkpoint_path=checkpoint_path, log=log)
    return training_store(model, result)


def predict(model: RecurrentModel, data: xr.Dataset, split: str) -> np.ndarray:
    """One-step predictions of y_2..y_{T+1} from y_1..y_T in the units of y: (N, T, p), float64."""
    inputs, _ = training_pairs(data, split, dtype=torch.float64)
    model = model.double().eval()
    with torch.no_grad():
        outputs = model(inputs)[0].numpy()
    return outputs * data["scale"].values


def linearised_recurrence(model: RecurrentModel, n_iter: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The network's recurrence linearised at its zero-input fixed point, in the units of y.

    For the linear family this is (W, U, C) itself. For a tanh network h <- tanh(W h + U x + b),
    the fixed point h* = tanh(W h* + b) is found by iteration from 0 and the map is linearised
    there: W_lin = D W, U_lin = D U with D = diag(1 - h*^2); the read-out is C.

    Returns
    -------
    W : numpy.ndarray
        (H, H).
    U : numpy.ndarray
        (H, p), acting on the rescaled input y / scale.
    C : numpy.ndarray
        (p, H), producing the rescaled output.
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


def analyse(data: dict[str, xr.Dataset], runs: list[tuple[str, str, int, xr.Dataset]],
            cfg: dict[str, Any]) -> xr.Dataset:
    """Baselines, gaps, eigenvalues and impulse responses of every trained network.

    Parameters
    ----------
    data
        System name -> its :func:`simulate_splits` dataset.
    runs
        (system, model, seed, training store) for every training job: the store holds the
        parameters (:func:`rnndyn.models.parameters.model_parameters`) and the history, with ``attrs["status"]``.
    cfg
        The ``kalman`` config section.

    Returns
    -------
    xarray.Dataset
        Per system: Kalman baselines and eigenvalues; per (system, model, seed): test MSE, gap,
        matched eigenvalues, impulse-response error, training status.
    """
    systems = list(data)
    models = sorted({r[1] for r in runs})
    seeds = sorted({r[2] for r in runs})
    n_max = max(d.sizes["state"] for d in data.values())
    burn_in, n_lags = cfg["data"]["burn_in"], cfg["analysis"]["n_impulse_lags"]
    shape_s, shape_r = (len(systems),), (len(systems), len(models), len(seeds))
    base = {k: np.full(shape_s, np.nan) for k in ("mse_kf", "mse_kf_se", "mse_tv", "floor")}
    kf_eig = np.full(shape_s + (n_max,), np.nan + 0j)
    kf_markov = np.full(shape_s + (n_lags,), np.nan)
    res = {k: np.full(shape_r, np.nan) for k in ("mse_rnn", "gap_db", "eig_error", "impulse_error",
                                                 "val_loss", "hankel_ratio", "fixed_point_residual", "rho_W")}
    status = np.full(shape_r, "missing", dtype=object)
    eig_matched = np.full(shape_r + (n_max,), np.nan + 0j)
    rnn_markov = np.full(shape_r + (n_lags,), np.nan)
    baselines = {}
    for i, name in enumerate(systems):
        d = data[name]
        system = system_of(d)
        P, K = steady_state_kalman(system.A, system.C, system.Q, system.R)
        y = d["y_test"].values
        ss = kalman_predict(y, system.A, system.C, K)
        tv, _ = time_varying_kalman_predict(y, system.A, system.C, system.Q, system.R,
                                            stationary_state_covariance(system.A, system.Q))
        per_sequence = ((ss - y)[:, 1 + burn_in:] ** 2).mean(axis=(1, 2))
        base["mse_kf"][i] = per_sequence.mean()
        base["mse_kf_se"][i] = per_sequence.std(ddof=1) / math.sqrt(per_sequence.size)
        base["mse_tv"][i] = ((tv - y)[:, 1 + burn_in:] ** 2).mean()
        base["floor"][i] = prediction_mse_floor(system.C, P, system.R)
        W_kf, G_kf = kalman_predictor_matrices(system.A, system.C, K)
        n = W_kf.shape[0]
        kf_eig[i, :n] = np.sort_complex(np.linalg.eigvals(W_kf))
        kf_markov[i] = np.linalg.norm(markov_parameters(W_kf, G_kf, system.C, n_lags), axis=(1, 2))
        baselines[name] = (W_kf, G_kf, system.C, n)
    for system_name, model_name, seed, store in runs:
        i, j, k = systems.index(system_name), models.index(model_name), seeds.index(seed)
        d = data[system_name]
        status[i, j, k] = store.attrs["status"]
        res["val_loss"][i, j, k] = float(store["val_loss"].values[-1])
        model = load_model_parameters(
            build_network(model_name, d, cfg["models"][model_name], torch.Generator().manual_seed(0),
                          dtype=torch.float64), store)
        prediction = predict(model, d, "test")
        y = d["y_test"].values
        res["mse_rnn"][i, j, k] = ((prediction - y[:, 1:])[:, burn_in:] ** 2).mean()
        res["gap_db"][i, j, k] = mse_gap_db(res["mse_rnn"][i, j, k], base["mse_kf"][i])
        W, U, C, residual = linearised_recurrence(model)
        res["fixed_point_residual"][i, j, k] = residual
        scale = d["scale"].values
        U, C = U / scale[None, :], scale[:, None] * C  # to the units of y
        rho = float(np.max(np.abs(np.linalg.eigvals(W))))
        res["rho_W"][i, j, k] = rho
        W_kf, G_kf, C_kf, n = baselines[system_name]
        markov = markov_parameters(W, U, C, n_lags)
        rnn_markov[i, j, k] = np.linalg.norm(markov, axis=(1, 2))
        reference = markov_parameters(W_kf, G_kf, C_kf, n_lags)
        res["impulse_error"][i, j, k] = np.linalg.norm(markov - reference) / np.linalg.norm(reference)
        if np.isfinite(W).all() and rho < 1.0:
            W_reduced, hankel = balanced_truncation(W, U, C, n)
            res["hankel_ratio"][i, j, k] = hankel[n] / hankel[0] if hankel.size > n else 0.0
            matched, error = match_eigenvalues(kf_eig[i, :n], np.linalg.eigvals(W_reduced))
            eig_matched[i, j, k, :n] = matched
            res["eig_error"][i, j, k] = error
    rdims = ("system", "model", "seed")
    return xr.Dataset(
        {
            "mse_kf": (("system",), base["mse_kf"], {"long_name": "steady-state Kalman predictor test MSE "
                                                                  "(per output, after burn-in)", "units": "y^2"}),
            "mse_kf_se": (("system",), base["mse_kf_se"], {"long_name": "standard error of mse_kf over test "
                                                                        "sequences", "units": "y^2"}),
            "mse_tv": (("system",), base["mse_tv"], {"long_name": "time-varying Kalman filter test MSE "
                                                                  "(after burn-in)", "units": "y^2"}),
            "mse_floor": (("system",), base["floor"], {"long_name": "analytic floor tr(C P C^T + R) / p",
                                                         "units": "y^2"}),
            "kf_eigenvalue_real": (("system", "mode"), kf_eig.real, {"long_name": "Re eig(A - A K C)", "units": "1"}),
            "kf_eigenvalue_imag": (("system", "mode"), kf_eig.imag, {"long_name": "Im eig(A - A K C)", "units": "1"}),
            "kf_impulse_norm": (("system", "lag"), kf_markov,
                                {"long_name": "||C (A - A K C)^k A K||_F of the Kalman predictor", "units": "1"}),
            "mse_rnn": (rdims, res["mse_rnn"], {"long_name": "network test MSE (per output, after burn-in)",
                                                "units": "y^2"}),
            "gap_db": (rdims, res["gap_db"], {"long_name": "10 log10(MSE_RNN / MSE_KF) on the test split",
                                              "units": "dB"}),
            "eigenvalue_error": (rdims, res["eig_error"],
                                 {"long_name": "max |matched eigenvalue - eig(A - A K C)| after balanced truncation",
                                  "units": "1"}),
            "matched_eigenvalue_real": (rdims + ("mode",), eig_matched.real,
                                        {"long_name": "Re of the learned eigenvalue matched to each Kalman one",
                                         "units": "1"}),
            "matched_eigenvalue_imag": (rdims + ("mode",), eig_matched.imag,
                                        {"long_name": "Im of the learned eigenvalue matched to each Kalman one",
                                         "units": "1"}),
            "hankel_ratio": (rdims, res["hankel_ratio"],
                             {"long_name": "first truncated / largest Hankel singular value", "units": "1"}),
            "rnn_impulse_norm": (rdims + ("lag",), rnn_markov,
                                 {"long_name": "||C W^k U||_F of the (linearised) network", "units": "1"}),
            "impulse_error": (rdims, res["impulse_error"],
                              {"long_name": "relative Frobenius error of the learned impulse response", "units": "1"}),
            "rho_W": (rdims, res["rho_W"], {"long_name": "spectral radius of the (linearised) recurrence",
                                            "units": "1"}),
            "fixed_point_residual": (rdims, res["fixed_point_residual"],
                                     {"long_name": "residual of the zero-input fixed point linearised around",
                                      "units": "1"}),
            "val_loss": (rdims, res["val_loss"], {"long_name": "final validation loss (rescaled units)",
                                                  "units": "1"}),
            "status": (rdims, status, {"long_name": "training status", "units": "1"}),
        },
        coords={
            "system": ("system", np.array(systems, dtype=object), {"long_name": "state-space system", "units": "1"}),
            "model": ("model", np.array(models, dtype=object), {"long_name": "network family", "units": "1"}),
            "seed": ("seed", np.array(seeds), {"long_name": "training seed index", "units": "1"}),
            "mode": ("mode", np.arange(n_max), {"long_name": "eigenvalue index", "units": "1"}),
            "lag": ("lag", np.arange(n_lags), {"long_name": "lag k", "units": "step"}),
            "state_dim": ("system", np.array([data[s].sizes["state"] for s in systems]),
                          {"long_name": "state dimension n", "units": "1"}),
        },
        attrs={"title": "Trained RNNs against the Kalman predictor", "burn_in": burn_in},
    )


def claims(ds: xr.Dataset) -> list[Claim]:
    """The ``kalman`` claims: the Kalman baseline against its analytic floor, and per system the
    gap and eigenvalue match of the linear network (the seed with the lowest validation loss).

    STUDY.md's claim is about a linear RNN; the other families (a tanh RNN) are reported in the
    notes, the dataset and the figures, not held to its 0.1 dB target.
    """
    out = []
    for system in ds["system"].values:
        s = ds.sel(system=system)
        out.append(claim_close(
            f"kalman/kf_mse_vs_floor/{system}",
            f"steady-state Kalman predictor's test MSE against tr(C P C^T + R) / p ({system})",
            measured=float(s["mse_kf"]), expected=float(s["mse_floor"]),
            tolerance=N_STANDARD_ERRORS * float(s["mse_kf_se"]), unit="y^2",
            note=f"tolerance 3 standard errors over test sequences; time-varying filter {float(s['mse_tv']):.4g}"))
        if "linear" not in ds["model"].values:
            continue
        best = {model: best_seed(s.sel(model=model)) for model in ds["model"].values}
        b = best["linear"]
        others = "; ".join(f"{model}: gap {float(r['gap_db']):+.3f} dB, eigenvalue error {float(r['eigenvalue_error']):.3g}"
                           for model, r in best.items() if model != "linear")
        seeds = ", ".join(f"seed {int(sd)}: {g:+.3f} dB ({st})" for sd, g, st in
                          zip(s["seed"].values, s["gap_db"].sel(model="linear").values,
                              s["status"].sel(model="linear").values))
        out.append(claim_close(
            f"kalman/gap_db/{system}",
            f"10 log10(MSE_RNN / MSE_KF) on the test split, linear network on {system}",
            measured=float(b["gap_db"]), expected=0.0, tolerance=GAP_TOL_DB, unit="dB",
            note=f"seed with the lowest validation loss; {seeds}; burn-in {ds.attrs['burn_in']} steps; "
                 f"impulse-response error {float(b['impulse_error']):.3g}" + (f"; {others}" if others else "")))
        out.append(claim_close(
            f"kalman/eigenvalue_max_error/{system}",
            f"max |learned - Kalman| eigenvalue of the linear network's recurrence on {system} "
            f"(balanced truncation to n = {int(s['state_dim'])} states, Hungarian matching)",
            measured=float(b["eigenvalue_error"]), expected=0.0, tolerance=EIGENVALUE_TOL,
            note=f"first truncated / largest Hankel singular value {float(b['hankel_ratio']):.2g}; "
                 f"rho(W) {float(b['rho_W']):.3g}"))
    return out


def _psd_factor(S: np.ndarray) -> np.ndarray:
    """L with L L^T = S for a symmetric positive semi-definite S (eigen-decomposition)."""
    eigenvalues, V = np.linalg.eigh(0.5 * (S + S.T))
    return V * np.sqrt(np.clip(eigenvalues, 0.0, None))
