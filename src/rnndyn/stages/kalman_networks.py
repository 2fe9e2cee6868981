"""The Kalman stage's jobs that run networks (torch): training one network, and the analysis of
every trained network against the Kalman predictor, with the ``kalman`` claims.

Each network is trained to predict y_{t+1} from y_{<=t} on observations divided by the training
split's per-output ``scale``; the analysis takes it back to the units of y.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import xarray as xr

from rnndyn.analysis.kalman import (
    balanced_truncation,
    eigenvalue_condition_numbers,
    excess_mse,
    kalman_predict,
    kalman_predictor_matrices,
    linearised_recurrence,
    markov_estimation_error,
    markov_parameters,
    match_eigenvalues,
    mse_gap_db,
    prediction_mse_floor,
    pseudospectral_distance,
    realisation_sensitivity,
    steady_state_kalman,
    time_varying_kalman_predict,
)
from rnndyn.models import RecurrentModel
from rnndyn.models.trained import load_network, network_identity
from rnndyn.stages.kalman import claims, system_label, system_of
from rnndyn.systems.lgssm import LinearGaussianSystem, stationary_state_covariance
from rnndyn.training.network import train_network

if TYPE_CHECKING:
    from rnndyn.jobs import Job

# Training sequences over which the estimation error's information matrices are averaged (their
# estimate varies by < 1 % between two halves of 512 sequences of the 10 x 10 system).
ESTIMATION_SEQUENCES = 256
# Added to every eps (the realisation perturbation an impulse-response error allows): an exact
# realisation's poles come back from balanced truncation and eig within ~1e-15 of the Kalman ones
# (tests/unit/test_stage_kalman.py), a trained network's eps is above 1e-4; in between, this keeps
# float64 round-off from failing an exact recovery.
ROUND_OFF_EPSILON = 1e-10


def train_job(job: Job) -> None:
    """Job ``kalman_train``: one network (system x arch x replicate), config ``kalman.archs.<arch>``.

    The initial weights draw from the stream ``init``, the minibatch order from ``batches``.
    """
    data, arch, cfg = job.read(), job.wildcards["arch"], job.config
    p, n = data.sizes["output"], data.sizes["state"]
    arguments = {"input_size": p, "hidden_size": cfg["hidden_per_state"] * n, "output_size": p,
                 **cfg.get("options", {})}
    identity = {"stage": "kalman", "system": job.wildcards["system"], "arch": arch,
                "replicate": int(job.wildcards["replicate"])}
    store = train_network(arch, arguments, training_pairs(data, "train"), training_pairs(data, "val"),
                          config=cfg["train"], streams=job.streams, identity=identity,
                          title=f"{arch} network trained to predict the observations of {identity['system']}",
                          device=job.device, checkpoint_path=job.checkpoint_dir / "train.pt", log=job.log)
    job.write(store, device=store.attrs["device"])


def training_pairs(data: xr.Dataset, split: str,
                   dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs y_1..y_T, targets y_2..y_{T+1}) of a split, divided by ``scale``: (N, T, p) each."""
    y = data[f"y_{split}"].values / data["scale"].values
    return torch.as_tensor(y[:, :-1], dtype=dtype), torch.as_tensor(y[:, 1:], dtype=dtype)


def predict(model: RecurrentModel, data: xr.Dataset, split: str) -> np.ndarray:
    """One-step predictions of y_2..y_{T+1} from y_1..y_T in the units of y: (N, T, p), float64."""
    inputs, _ = training_pairs(data, split, dtype=torch.float64)
    model = model.double().eval()
    with torch.no_grad():
        outputs = model(inputs)[0].numpy()
    return outputs * data["scale"].values


def analysis_job(job: Job) -> None:
    """Job ``kalman_analysis``: every trained network against its system's Kalman predictor, and the
    ``kalman`` claims (config ``kalman.analysis``, and ``noise_sweep``, the systems of the sweep)."""
    data = {ds.attrs["system"]: ds for ds in job.read_all("data")}
    result = analyse(data, job.read_all("networks"), job.config)
    job.write(result, "analysis")
    job.write_claims(claims(result))


def analyse(data: dict[str, xr.Dataset], networks: list[xr.Dataset], cfg: dict[str, Any]) -> xr.Dataset:
    """Baselines, gaps, impulse responses and poles of every trained network; the noise sweep's line.

    Parameters
    ----------
    data
        System name -> its :func:`rnndyn.stages.kalman.simulate_splits` dataset (attributes: the
        system's config entry).
    networks
        Trained networks (:func:`rnndyn.models.trained.network_store`); each one's system, arch and
        replicate come from its identity.
    cfg
        ``burn_in`` (first test predictions left out of every MSE), ``n_impulse_lags`` and
        ``noise_sweep`` (names of the systems that form the sweep, possibly none).

    Returns
    -------
    xarray.Dataset
        Per system: Kalman baselines, eigenvalues and their condition numbers, the balanced
        realisation's recurrent matrix and its sensitivity to the impulse response; per (system,
        arch, replicate): test MSE, gap, impulse-response error, matched poles, their
        pseudospectral distance and the perturbation size eps the impulse-response error implies;
        the analytic floor along the noise sweep.
    """
    identities = [network_identity(store) for store in networks]
    systems = list(data)
    archs = sorted({identity["arch"] for identity in identities})
    replicates = sorted({int(identity["replicate"]) for identity in identities})
    n_max = max(d.sizes["state"] for d in data.values())
    burn_in, n_lags = cfg["burn_in"], cfg["n_impulse_lags"]
    sweep = list(cfg.get("noise_sweep", []))
    shape_s, shape_r = (len(systems),), (len(systems), len(archs), len(replicates))
    base = {k: np.full(shape_s, np.nan) for k in ("mse_kf", "mse_kf_se", "mse_tv", "floor", "markov_norm",
                                                  "estimation_rms", "sensitivity", "inverse_r2_db", "lambda_min_R",
                                                  "n_observations")}
    kf_eig = np.full(shape_s + (n_max,), np.nan + 0j)
    kf_kappa = np.full(shape_s + (n_max,), np.nan)
    kf_W = np.full(shape_s + (n_max, n_max), np.nan)
    kf_markov = np.full(shape_s + (n_lags,), np.nan)
    res = {k: np.full(shape_r, np.nan) for k in ("mse_rnn", "gap_db", "eig_error", "impulse_error", "val_loss",
                                                 "hankel_ratio", "fixed_point_residual", "rho_W", "backward_error",
                                                 "epsilon", "gap_population", "estimation_rms", "hidden")}
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
        base["inverse_r2_db"][i] = -10.0 * np.log10(np.mean(np.diag(system.R)))
        W_kf, G_kf = kalman_predictor_matrices(system.A, system.C, K)
        n = W_kf.shape[0]
        # The balanced realisation: the basis the input-output map fixes, where perturbation sizes of
        # the recurrent matrix mean the same for every network.
        W_bal, G_bal, C_bal, _ = balanced_truncation(W_kf, G_kf, system.C, n)
        eigenvalues, kappa = eigenvalue_condition_numbers(W_bal)
        order = np.argsort(eigenvalues)  # complex: by real part, then imaginary part
        kf_eig[i, :n], kf_kappa[i, :n] = eigenvalues[order], kappa[order]
        kf_W[i, :n, :n] = W_bal
        base["sensitivity"][i] = realisation_sensitivity(W_bal, G_bal, C_bal, n_lags)
        reference = markov_parameters(W_kf, G_kf, system.C, n_lags)
        kf_markov[i] = np.linalg.norm(reference, axis=(1, 2))
        base["lambda_min_R"][i] = np.linalg.eigvalsh(system.R)[0]
        y_train = d["y_train"].values
        base["n_observations"][i] = y_train.shape[0] * (y_train.shape[1] - 1)
        base["estimation_rms"][i] = markov_estimation_error(
            W_kf, G_kf, system.C, y_train[:ESTIMATION_SEQUENCES], 1.0 / d["scale"].values ** 2,
            system.C @ P @ system.C.T + system.R, n_lags, n_observations=int(base["n_observations"][i]))
        base["markov_norm"][i] = np.linalg.norm(reference)
        baselines[name] = (reference, W_bal, n)
    for identity, store in zip(identities, networks):
        system_name, arch, replicate = identity["system"], identity["arch"], int(identity["replicate"])
        i, j, k = systems.index(system_name), archs.index(arch), replicates.index(replicate)
        d = data[system_name]
        status[i, j, k] = store.attrs["status"]
        res["val_loss"][i, j, k] = float(store["val_loss"].values[-1])
        model = load_network(store)
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
        reference, W_bal, n = baselines[system_name]
        markov = markov_parameters(W, U, C, n_lags)
        rnn_markov[i, j, k] = np.linalg.norm(markov, axis=(1, 2))
        error = np.linalg.norm(markov - reference)
        res["impulse_error"][i, j, k] = error / base["markov_norm"][i]
        system = system_of(d)
        excess = excess_mse(markov - reference, system.A, system.C, system.Q, system.R) / system.C.shape[0]
        res["gap_population"][i, j, k] = mse_gap_db(base["floor"][i] + excess, base["floor"][i])
        res["epsilon"][i, j, k] = base["sensitivity"][i] * error + ROUND_OFF_EPSILON
        # A fit with H states has about H / n times the minimal model's parameters, and its mean
        # square estimation error grows in proportion (Akaike's final prediction error).
        res["estimation_rms"][i, j, k] = base["estimation_rms"][i] * math.sqrt(W.shape[0] / n)
        res["hidden"][i, j, k] = W.shape[0]
        if np.isfinite(W).all() and rho < 1.0:
            W_reduced, _, _, hankel = balanced_truncation(W, U, C, n)
            res["hankel_ratio"][i, j, k] = hankel[n] / hankel[0] if hankel.size > n else 0.0
            learned = np.linalg.eigvals(W_reduced)
            matched, max_error = match_eigenvalues(kf_eig[i, :n], learned)
            eig_matched[i, j, k, :n] = matched
            res["eig_error"][i, j, k] = max_error
            res["backward_error"][i, j, k] = float(np.max(pseudospectral_distance(W_bal, learned)))
    in_sweep = np.array([name in sweep for name in systems])
    line_x, line_floor = noise_sweep_line([system_of(data[name]) for name in sweep])
    rdims = ("system", "arch", "replicate")
    one = {"units": "1"}
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
            "lambda_min_R": (("system",), base["lambda_min_R"],
                             {"long_name": "smallest eigenvalue of the observation-noise covariance R",
                              "units": "y^2"}),
            "n_train_observations": (("system",), base["n_observations"],
                                     {"long_name": "predicted steps in the training split", **one}),
            "markov_estimation_rms": (("system",), base["estimation_rms"],
                                      {"long_name": "asymptotic rms error of the first n_lags Markov parameters of "
                                                    "a least-squares fit of the minimal predictor to the training "
                                                    "data", **one}),
            "kf_eigenvalue_real": (("system", "mode"), kf_eig.real, {"long_name": "Re eig(A - A K C)", **one}),
            "kf_eigenvalue_imag": (("system", "mode"), kf_eig.imag, {"long_name": "Im eig(A - A K C)", **one}),
            "kf_condition": (("system", "mode"), kf_kappa,
                             {"long_name": "eigenvalue condition number of A - A K C (balanced realisation)", **one}),
            "kf_balanced_W": (("system", "mode", "mode_col"), kf_W,
                              {"long_name": "A - A K C in the balanced realisation of the Kalman predictor", **one}),
            "realisation_sensitivity": (("system",), base["sensitivity"],
                                        {"long_name": "largest ||dW||_F per unit ||dh||_F of the first n_lags "
                                                      "Markov parameters (balanced realisation, first order)",
                                         **one}),
            "kf_impulse_norm": (("system", "lag"), kf_markov,
                                {"long_name": "||C (A - A K C)^k A K||_F of the Kalman predictor", **one}),
            "kf_markov_norm": (("system",), base["markov_norm"],
                               {"long_name": "||h_KF||_F over the compared lags", **one}),
            "inverse_r2_db": (("system",), base["inverse_r2_db"],
                              {"long_name": "1/r^2, r^2 the mean observation-noise variance", "units": "dB"}),
            "in_noise_sweep": (("system",), in_sweep, {"long_name": "system belongs to the noise sweep", **one}),
            "noise_sweep_mse_floor": (("sweep_point",), line_floor,
                                      {"long_name": "analytic floor tr(C P C^T + R) / p along the noise sweep "
                                                    "(A, C, Q of the sweep's systems)", "units": "y^2"}),
            "mse_rnn": (rdims, res["mse_rnn"], {"long_name": "network test MSE (per output, after burn-in)",
                                                "units": "y^2"}),
            "gap_db": (rdims, res["gap_db"], {"long_name": "10 log10(MSE_RNN / MSE_KF) on the test split",
                                              "units": "dB"}),
            "gap_db_population": (rdims, res["gap_population"],
                                  {"long_name": "gap the impulse-response error implies in the stationary regime "
                                                "(exact for a linear network, up to the compared lags)",
                                   "units": "dB"}),
            "eigenvalue_error": (rdims, res["eig_error"],
                                 {"long_name": "max |matched eigenvalue - eig(A - A K C)| after balanced truncation",
                                  **one}),
            "matched_eigenvalue_real": (rdims + ("mode",), eig_matched.real,
                                        {"long_name": "Re of the learned eigenvalue matched to each Kalman one",
                                         **one}),
            "matched_eigenvalue_imag": (rdims + ("mode",), eig_matched.imag,
                                        {"long_name": "Im of the learned eigenvalue matched to each Kalman one",
                                         **one}),
            "pole_backward_error": (rdims, res["backward_error"],
                                    {"long_name": "max over learned poles mu of sigma_min(mu I - W_KF), W_KF balanced",
                                     **one}),
            "realisation_epsilon": (rdims, res["epsilon"],
                                    {"long_name": "eps = realisation_sensitivity x ||h_RNN - h_KF||_F (+ 1e-10 for "
                                                  "round-off): the recurrent-matrix perturbation the "
                                                  "impulse-response error allows",
                                     **one}),
            "network_estimation_rms": (rdims, res["estimation_rms"],
                                       {"long_name": "markov_estimation_rms x sqrt(H / n) for the network's H states",
                                        **one}),
            "hidden_size": (rdims, res["hidden"], {"long_name": "hidden units H of the network", **one}),
            "hankel_ratio": (rdims, res["hankel_ratio"],
                             {"long_name": "first truncated / largest Hankel singular value", **one}),
            "rnn_impulse_norm": (rdims + ("lag",), rnn_markov,
                                 {"long_name": "||C W^k U||_F of the (linearised) network", **one}),
            "impulse_error": (rdims, res["impulse_error"],
                              {"long_name": "relative Frobenius error of the learned impulse response", **one}),
            "rho_W": (rdims, res["rho_W"], {"long_name": "spectral radius of the (linearised) recurrence", **one}),
            "fixed_point_residual": (rdims, res["fixed_point_residual"],
                                     {"long_name": "residual of the zero-input fixed point linearised around", **one}),
            "val_loss": (rdims, res["val_loss"], {"long_name": "final validation loss (rescaled units)", **one}),
            "status": (rdims, status, {"long_name": "training status", **one}),
        },
        coords={
            "system": ("system", np.array(systems, dtype=object), {"long_name": "state-space system", **one}),
            "arch": ("arch", np.array(archs, dtype=object), {"long_name": "network architecture", **one}),
            "replicate": ("replicate", np.array(replicates), {"long_name": "replicate network", **one}),
            "mode": ("mode", np.arange(n_max), {"long_name": "eigenvalue index", **one}),
            "mode_col": ("mode_col", np.arange(n_max), {"long_name": "column index of a state matrix", **one}),
            "lag": ("lag", np.arange(n_lags), {"long_name": "lag k", "units": "step"}),
            "state_dim": ("system", np.array([data[s].sizes["state"] for s in systems]),
                          {"long_name": "state dimension n", **one}),
            "output_dim": ("system", np.array([data[s].sizes["output"] for s in systems]),
                           {"long_name": "observation dimension p", **one}),
            "label": ("system", np.array([system_label(data[s].attrs) for s in systems], dtype=object),
                      {"long_name": "description of the system", **one}),
            "noise_sweep_inverse_r2_db": ("sweep_point", line_x,
                                          {"long_name": "1/r^2 along the noise sweep's line", "units": "dB"}),
        },
        attrs={"title": "Trained RNNs against the Kalman predictor", "burn_in": burn_in},
    )


def noise_sweep_line(systems: list[LinearGaussianSystem], n_points: int = 61,
                     margin_db: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """The analytic one-step floor tr(C P C^T + R) / p against 1/r^2 (dB) through the sweep's systems.

    Parameters
    ----------
    systems
        The sweep's :class:`~rnndyn.systems.lgssm.LinearGaussianSystem` s: the same A, C and Q, and
        R = r^2 I with r^2 differing (else the sweep has no single line: ValueError). May be empty.
    n_points, margin_db
        Points of the line, and how far (dB) it extends beyond the sweep's extreme r^2.

    Returns
    -------
    inverse_r2_db, floor : numpy.ndarray
        (n_points,) each; empty when ``systems`` is.
    """
    if not systems:
        return np.empty(0), np.empty(0)
    first = systems[0]
    for system in systems:
        p = system.R.shape[0]
        same = all(np.allclose(getattr(system, m), getattr(first, m), rtol=1e-12, atol=0) for m in ("A", "C", "Q"))
        if not same or not np.allclose(system.R, system.R[0, 0] * np.eye(p), rtol=1e-12, atol=0):
            raise ValueError("the noise sweep's systems must share A, C and Q and have R = r^2 I")
    inverse_r2_db = np.array([-10.0 * np.log10(system.R[0, 0]) for system in systems])
    grid = np.linspace(inverse_r2_db.min() - margin_db, inverse_r2_db.max() + margin_db, n_points)
    floor = np.empty(n_points)
    for i, x in enumerate(grid):
        R = 10.0 ** (-x / 10.0) * np.eye(first.C.shape[0])
        P, _ = steady_state_kalman(first.A, first.C, first.Q, R)
        floor[i] = prediction_mse_floor(first.C, P, R)
    return grid, floor
