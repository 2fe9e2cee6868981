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
    kalman_predict,
    kalman_predictor_matrices,
    linearised_recurrence,
    markov_parameters,
    match_eigenvalues,
    mse_gap_db,
    prediction_mse_floor,
    steady_state_kalman,
    time_varying_kalman_predict,
)
from rnndyn.models import RecurrentModel
from rnndyn.models.trained import load_network, network_identity
from rnndyn.stages.kalman import claims, system_of
from rnndyn.systems.lgssm import stationary_state_covariance
from rnndyn.training.network import train_network

if TYPE_CHECKING:
    from rnndyn.jobs import Job


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
    ``kalman`` claims (config ``kalman.analysis``)."""
    data = {ds.attrs["system"]: ds for ds in job.read_all("data")}
    result = analyse(data, job.read_all("networks"), job.config)
    job.write(result, "analysis")
    job.write_claims(claims(result))


def analyse(data: dict[str, xr.Dataset], networks: list[xr.Dataset], cfg: dict[str, Any]) -> xr.Dataset:
    """Baselines, gaps, eigenvalues and impulse responses of every trained network.

    Parameters
    ----------
    data
        System name -> its :func:`rnndyn.stages.kalman.simulate_splits` dataset.
    networks
        Trained networks (:func:`rnndyn.models.trained.network_store`); each one's system, arch and
        replicate come from its identity.
    cfg
        ``burn_in`` (first test predictions left out of every MSE) and ``n_impulse_lags``.

    Returns
    -------
    xarray.Dataset
        Per system: Kalman baselines and eigenvalues; per (system, arch, replicate): test MSE, gap,
        matched eigenvalues, impulse-response error, training status.
    """
    identities = [network_identity(store) for store in networks]
    systems = list(data)
    archs = sorted({identity["arch"] for identity in identities})
    replicates = sorted({int(identity["replicate"]) for identity in identities})
    n_max = max(d.sizes["state"] for d in data.values())
    burn_in, n_lags = cfg["burn_in"], cfg["n_impulse_lags"]
    shape_s, shape_r = (len(systems),), (len(systems), len(archs), len(replicates))
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
    rdims = ("system", "arch", "replicate")
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
            "arch": ("arch", np.array(archs, dtype=object), {"long_name": "network architecture", "units": "1"}),
            "replicate": ("replicate", np.array(replicates), {"long_name": "replicate network", "units": "1"}),
            "mode": ("mode", np.arange(n_max), {"long_name": "eigenvalue index", "units": "1"}),
            "lag": ("lag", np.arange(n_lags), {"long_name": "lag k", "units": "step"}),
            "state_dim": ("system", np.array([data[s].sizes["state"] for s in systems]),
                          {"long_name": "state dimension n", "units": "1"}),
        },
        attrs={"title": "Trained RNNs against the Kalman predictor", "burn_in": burn_in},
    )
