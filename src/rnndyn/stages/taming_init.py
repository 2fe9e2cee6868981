"""Taming stage, rule ``taming_init``: gradient norm against lag at initialisation for every
architecture, the leaky unit's impulse response and the e-fold time of a driven, coupled leaky
network; and the stage's networks (shared with
:mod:`rnndyn.stages.taming_copy`). See :mod:`rnndyn.stages.taming` for the stage."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import xarray as xr
from torch.nn.utils import parametrize

from rnndyn.analysis.gradients import bptt_log_gradient_norms, gradient_growth_rate
from rnndyn.models import RecurrentModel, build_model
from rnndyn.stages.taming import ORTHOGONAL_LINEAR, VANILLA_CHAOTIC
from rnndyn.systems.tasks import copy_task

if TYPE_CHECKING:
    from rnndyn.jobs import Job
    from rnndyn.seeding import Streams


def init_job(job: Job) -> None:
    """Rule ``taming_init``: :func:`initialisation` (streams ``("taming", "init" | "leaky", ...)``)."""
    init = initialisation(job.config, job.streams)
    for arch, rate in zip(init["arch"].values, init["gradient_rate"].values):
        job.log.info("%s: gradient growth rate %.4g per step", arch, rate)
    job.write(init)


def model_options(arch: str, cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Factory name and options of an architecture of the stage (``cfg``: the ``taming`` section)."""
    if arch == ORTHOGONAL_LINEAR:
        return "orthogonal", {"nonlinearity": "linear"}
    if arch == VANILLA_CHAOTIC:
        return "vanilla", {"g": cfg["init"]["chaotic_g"]}
    options = {"vanilla": {"g": cfg["g"]}, "spectral": {"g": cfg["g"]},
               "leaky": {"alpha": cfg["leaky_alpha"], "g": cfg["g"]}}
    return arch, options.get(arch, {})


def build_args(arch: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """:func:`rnndyn.models.build_model` arguments of ``arch`` for the copy task (inputs
    n_symbols + 2, outputs n_symbols + 1): the ``build`` of its trained-network store."""
    name, options = model_options(arch, cfg)
    n_symbols = cfg["copy"]["n_symbols"]
    return {"arch": name, "input_size": n_symbols + 2, "hidden_size": cfg["hidden_size"],
            "output_size": n_symbols + 1, **options}


def build(arch: str, cfg: dict[str, Any], generator: torch.Generator,
          dtype: torch.dtype = torch.float32) -> RecurrentModel:
    """The stage's model ``arch`` for the copy task, initialised from ``generator``."""
    args = build_args(arch, cfg)
    return build_model(args.pop("arch"), generator=generator, dtype=dtype, **args)


def _readout(model: RecurrentModel, device: torch.device | str = "cpu") -> torch.Tensor:
    """Unit read-out ``c`` on the hidden part of the full state: ``(1, …, 1, 0, …)/√N``."""
    c = torch.zeros(model.state_size, dtype=torch.float64, device=device)
    c[: model.hidden_size] = 1.0 / math.sqrt(model.hidden_size)
    return c


def gradient_norms(model: RecurrentModel, inputs: torch.Tensor) -> np.ndarray:
    """``log‖∂L/∂s_{T−ℓ}‖`` ``(B, T + 1)`` of ``L = c · h_T`` for a model driven by ``inputs`` ``(B, T, in)``.

    The model runs from its zero initial state; ``c`` is the unit vector ``(1, …, 1)/√N`` on the
    hidden units (zero on an LSTM's cell state). Run it in float64 for reference values.
    """
    with parametrize.cached():
        return bptt_log_gradient_norms(model.step, model.initial_state(inputs.shape[0]),
                                       inputs.transpose(0, 1), _readout(model, inputs.device))


def initial_gradients(cfg: dict[str, Any], streams: Streams) -> xr.Dataset:
    """Gradient norm against lag at initialisation, every architecture plus the two references.

    Models are built in float64 (stream ``("init", arch)``); inputs are copy-task trials
    (``n_trials``, ``n_lags`` steps long, one-hot symbols then blanks; stream ``("init", "inputs")``).

    Returns
    -------
    xarray.Dataset
        ``log_gradient_norm`` (arch, trial, lag), the growth rate fitted on lags
        ``≥ n_lags / 4`` and the maximum norm over lags ≥ 1.
    """
    icfg, ccfg = cfg["init"], cfg["copy"]
    archs = list(cfg["archs"]) + [ORTHOGONAL_LINEAR, VANILLA_CHAOTIC]
    n_lags = icfg["n_lags"]
    inputs, _ = copy_task(streams.numpy("init", "inputs"), n_trials=icfg["n_trials"],
                          delay=n_lags - 2 * ccfg["length"], n_symbols=ccfg["n_symbols"], length=ccfg["length"])
    x = torch.from_numpy(inputs)
    log_norms = np.stack([gradient_norms(build(arch, cfg, streams.torch("init", arch), torch.float64), x)
                          for arch in archs])
    rate, error = gradient_growth_rate(log_norms, min_lag=n_lags // 4)
    return xr.Dataset(
        {
            "log_gradient_norm": (("arch", "trial", "lag"), log_norms,
                                  {"long_name": "log ||dL/ds_{T-lag}|| at initialisation (BPTT, float64)",
                                   "units": "1"}),
            "gradient_rate": (("arch",), rate,
                              {"long_name": "growth rate per step of the gradient norm (lags >= n_lags / 4)",
                               "units": "1/step"}),
            "gradient_rate_error": (("arch",), error,
                                    {"long_name": "standard error of the growth rate over trials", "units": "1/step"}),
            "max_gradient_norm": (("arch",), np.exp(log_norms[..., 1:].max(axis=(1, 2))),
                                  {"long_name": "largest gradient norm over trials and lags >= 1", "units": "1"}),
        },
        coords={
            "arch": ("arch", archs, {"long_name": "architecture", "units": "1"}),
            "trial": ("trial", np.arange(icfg["n_trials"]), {"long_name": "input sequence", "units": "1"}),
            "lag": ("lag", np.arange(n_lags + 1), {"long_name": "lag T - k", "units": "step"}),
        },
        attrs={"hidden_size": cfg["hidden_size"], "chaotic_g": icfg["chaotic_g"], "g": cfg["g"]},
    )


def efold_time(response: np.ndarray) -> float:
    """Steps for ``|response|`` to fall by a factor e from its first value.

    The crossing of ``log|r_t| = log|r_0| − 1`` is interpolated linearly in ``log|r|`` between
    the two steps around it (exact for an exponential). NaN if the response never falls that far.
    """
    log_r = np.log(np.abs(response))
    target = log_r[0] - 1.0
    below = np.nonzero(log_r <= target)[0]
    if below.size == 0:
        return math.nan
    k = below[0]
    return float(k - 1 + (log_r[k - 1] - target) / (log_r[k - 1] - log_r[k]))


def leaky_impulse_response(cfg: dict[str, Any], streams: Streams) -> xr.Dataset:
    """Impulse response of the factory's leaky unit and its measured e-fold time, per α.

    A leaky network with no recurrent coupling (``g = 0``, so ``W = 0``; float64; stream
    ``("leaky", α)``) receives one one-hot input at step 0 and zeros after it; its state then
    evolves as ``h ← (1 − α) h``.

    Returns
    -------
    xarray.Dataset
        ``response`` (alpha, t): mean ``|h_t|`` over units, normalised by its value after the
        impulse; measured e-fold time; ``−1/ln(1 − α)`` and ``1/α``.
    """
    lcfg = cfg["leaky"]
    alphas = np.asarray(lcfg["alpha"], dtype=np.float64)
    n_steps = lcfg["n_steps"]
    n_in = cfg["copy"]["n_symbols"] + 2
    x = torch.zeros(1, n_steps + 1, n_in, dtype=torch.float64)
    x[0, 0, 0] = 1.0
    responses = []
    for alpha in alphas:
        model = build_model("leaky", input_size=n_in, hidden_size=cfg["hidden_size"], output_size=1,
                            generator=streams.torch("leaky", float(alpha)),
                            dtype=torch.float64, alpha=float(alpha), g=0.0)
        with torch.no_grad():
            _, states = model(x)
        response = states[0].abs().mean(dim=-1).numpy()
        responses.append(response / response[0])
    responses = np.stack(responses)
    measured = np.array([efold_time(r) for r in responses])
    return xr.Dataset(
        {
            "response": (("alpha", "t"), responses,
                         {"long_name": "impulse response |h_t| / |h_0| (mean over units)", "units": "1"}),
            "efold_time": (("alpha",), measured, {"long_name": "measured e-fold time", "units": "step"}),
            "efold_time_exact": (("alpha",), -1.0 / np.log1p(-alphas),
                                 {"long_name": "-1 / ln(1 - alpha)", "units": "step"}),
            "efold_time_approx": (("alpha",), 1.0 / alphas, {"long_name": "1 / alpha", "units": "step"}),
        },
        coords={"alpha": ("alpha", alphas, {"long_name": "leak rate alpha", "units": "1"}),
                "t": ("t", np.arange(n_steps + 1), {"long_name": "steps after the impulse", "units": "step"})},
    )


def slowest_mode_efold_time(jacobian: np.ndarray) -> float:
    """E-fold time ``−1/ln ρ(J)`` (steps) of the slowest mode of a stable fixed point with Jacobian ``J`` (N, N).

    A perturbation along the eigenvector of the eigenvalue of largest modulus ``ρ`` shrinks by
    ``ρ`` per step; every other mode dies faster. NaN unless ``0 < ρ < 1``.
    """
    rho = float(np.abs(np.linalg.eigvals(jacobian)).max())
    return -1.0 / math.log(rho) if 0.0 < rho < 1.0 else math.nan


def leaky_jacobian(weight: np.ndarray, preactivation: np.ndarray, alpha: float) -> np.ndarray:
    """Jacobian ``(1 − α) I + α diag(1 − tanh²(a)) W`` (N, N) of ``h ← (1 − α) h + α tanh(a)``,
    ``a = W h + U x + b`` the pre-activation (N,) at the point of linearisation."""
    slope = 1.0 - np.tanh(preactivation) ** 2
    return (1.0 - alpha) * np.eye(weight.shape[0]) + alpha * slope[:, None] * weight


def perturbation_decay_rate(step, fixed_point: torch.Tensor, direction: torch.Tensor, *, size: float,
                            n_transient: int, n_measure: int) -> tuple[float, np.ndarray]:
    """Asymptotic decay rate (1/step) of a small perturbation of the fixed point of the map ``step``.

    The nonlinear map runs the fixed point ``h*`` (1, N) and ``h* + size · v`` side by side; after
    each step the difference is measured and rescaled back to ``size`` (Benettin et al. 1980's
    renormalisation, applied at a fixed point: a power iteration of the map's own linearisation).
    The rate is the mean log growth factor over the last ``n_measure`` of
    ``n_transient + n_measure`` steps, when the slowest mode dominates.

    Returns
    -------
    rate : float
        ``< 0`` for a stable fixed point; the e-fold time is ``−1/rate``.
    log_norm : numpy.ndarray
        ``(n_transient + n_measure + 1,)``: ``ln(‖δ_t‖/‖δ_0‖)`` of the perturbation had it not been
        rescaled (the sum of the log growth factors), ``log_norm[0] = 0``.
    """
    v = direction / direction.norm()
    pair = torch.cat([fixed_point, fixed_point + size * v])
    log_growth = np.empty(n_transient + n_measure)
    for t in range(log_growth.size):
        pair = step(pair)
        delta = pair[1] - pair[0]
        norm = float(delta.norm())
        log_growth[t] = math.log(norm / size)
        pair = torch.stack([pair[0], pair[0] + delta * (size / norm)])
    return float(log_growth[n_transient:].mean()), np.concatenate([[0.0], np.cumsum(log_growth)])


def driven_leaky_efold_time(cfg: dict[str, Any], streams: Streams) -> xr.Dataset:
    """E-fold time of a driven leaky network with recurrent weights, measured and from its Jacobian, per α.

    A leaky network ``h ← (1 − α) h + α tanh(W h + U x + b)`` with ``W ~ N(0, g²/N)`` (``g`` =
    ``leaky.driven.g`` > 0; float64; stream ``("leaky_driven", α)``) receives a constant input
    ``x = drive · e_0`` (the first symbol's channel) and settles on a fixed point ``h*``
    (``n_settle`` steps). The tanh slopes there are below 1 and ``W`` couples the units, so the
    slowest mode's e-fold time is ``−1/ln ρ(J)``, ``J = (1 − α) I + α diag(1 − tanh²(a*)) W``
    (:func:`leaky_jacobian`), not the uncoupled unit's ``−1/ln(1 − α)``. The measurement
    (:func:`perturbation_decay_rate`) runs the network's own ``step``, from a random direction
    (stream ``("leaky_driven", α, "direction")``).

    Returns
    -------
    xarray.Dataset
        Per α: ``driven_efold_time`` (measured), ``driven_efold_time_theory`` (−1/ln ρ(J)),
        ``driven_efold_time_uncoupled`` (−1/ln(1 − α), the formula that ignores W), the fixed point's
        residual ``‖F(h*) − h*‖`` and mean tanh slope; ``driven_log_norm`` (alpha, t_driven): the
        perturbation's log norm against steps.
    """
    dcfg = cfg["leaky"]["driven"]
    alphas = np.asarray(cfg["leaky"]["alpha"], dtype=np.float64)
    n_in, n = cfg["copy"]["n_symbols"] + 2, cfg["hidden_size"]
    x = torch.zeros(2, n_in, dtype=torch.float64)
    x[:, 0] = dcfg["drive"]
    measured, theory, residual, slope, log_norms = [], [], [], [], []
    for alpha in alphas:
        model = build_model("leaky", input_size=n_in, hidden_size=n, output_size=1,
                            generator=streams.torch("leaky_driven", float(alpha)),
                            dtype=torch.float64, alpha=float(alpha), g=dcfg["g"])
        with torch.no_grad():
            h = torch.zeros(1, n, dtype=torch.float64)
            for _ in range(dcfg["n_settle"]):
                h = model.step(x[:1], h)
            residual.append(float((model.step(x[:1], h) - h).norm()))
            weight = model.recurrent_weight.numpy()
            preactivation = (x[0] @ model.input_weight.T + model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0).numpy() \
                + weight @ h[0].numpy()
            theory.append(slowest_mode_efold_time(leaky_jacobian(weight, preactivation, float(alpha))))
            slope.append(float((1.0 - np.tanh(preactivation) ** 2).mean()))
            direction = torch.from_numpy(streams.numpy("leaky_driven", float(alpha), "direction").standard_normal(n))
            rate, log_norm = perturbation_decay_rate(
                lambda s: model.step(x, s), h, direction.unsqueeze(0), size=dcfg["perturbation"],
                n_transient=dcfg["n_transient"], n_measure=dcfg["n_measure"])
        measured.append(-1.0 / rate)
        log_norms.append(log_norm)
    per_alpha = {
        "driven_efold_time": (measured, "measured e-fold time of the slowest mode, driven leaky network", "step"),
        "driven_efold_time_theory": (theory, "-1 / ln rho(J), J the Jacobian at the fixed point", "step"),
        "driven_efold_time_uncoupled": (-1.0 / np.log1p(-alphas), "-1 / ln(1 - alpha), the formula ignoring W",
                                        "step"),
        "driven_fixed_point_residual": (residual, "||F(h*) - h*|| at the fixed point", "1"),
        "driven_mean_slope": (slope, "mean tanh slope 1 - tanh^2(a*) at the fixed point", "1"),
    }
    return xr.Dataset(
        {name: (("alpha",), np.asarray(values), {"long_name": long, "units": units})
         for name, (values, long, units) in per_alpha.items()}
        | {"driven_log_norm": (("alpha", "t_driven"), np.stack(log_norms),
                               {"long_name": "ln(|delta_t| / |delta_0|) of a perturbation of the fixed point",
                                "units": "1"})},
        coords={"alpha": ("alpha", alphas, {"long_name": "leak rate alpha", "units": "1"}),
                "t_driven": ("t_driven", np.arange(len(log_norms[0])),
                             {"long_name": "steps after the perturbation", "units": "step"})},
        attrs={"driven_g": dcfg["g"], "drive": dcfg["drive"], "driven_perturbation": dcfg["perturbation"],
               "driven_n_transient": dcfg["n_transient"]},
    )


def initialisation(cfg: dict[str, Any], streams: Streams) -> xr.Dataset:
    """The ``taming_init`` store: :func:`initial_gradients`, :func:`leaky_impulse_response` and
    :func:`driven_leaky_efold_time`."""
    return xr.merge([initial_gradients(cfg, streams), leaky_impulse_response(cfg, streams),
                     driven_leaky_efold_time(cfg, streams)], combine_attrs="drop_conflicts")
