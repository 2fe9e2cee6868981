"""The taming stage (claim ``taming``): architectures that keep BPTT gradients and memories alive.

- **At initialisation**, the BPTT gradient norm ``‖∂L/∂s_{T−ℓ}‖`` against the lag ℓ
  (:mod:`rnndyn.analysis.gradients`) for each architecture of the model factory, plus two
  references: the *orthogonal linear* network, whose Jacobian is the orthogonal ``W`` itself, so
  that the norm is exactly 1 at every lag (to round-off); and a *vanilla* tanh network with gain
  ``g > 1`` (chaotic, λ1 > 0), whose gradient explodes. The *spectral-norm* network has
  ``‖W‖₂ ≤ 1`` and ``|tanh′| ≤ 1``, so the norm can never exceed 1.
- **Leaky integrator.** A unit ``h ← (1 − α) h + α tanh(·)`` with no recurrent input forgets an
  impulse as ``(1 − α)^t``: its e-fold time is ``−1/ln(1 − α)`` steps (≈ 1/α for small α).
- **Memory task.** The copy task (Hochreiter & Schmidhuber 1997; Arjovsky, Shah & Bengio 2016,
  "Unitary evolution recurrent neural networks", ICML) at increasing delays L, each architecture ×
  delay × seed trained with the shared trainer (cross-entropy). The memoryless baseline is
  ``10 ln 8 / (L + 20)`` nats per step. Expected from the literature: gated (LSTM, GRU) and
  orthogonal networks solve delays at which the vanilla tanh network stays at the baseline.
- **After training**, λ1 of each trained network run autonomously with zero input (the "edge of
  chaos": near 0 for models that hold memories over long delays).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr
from torch.nn.utils import parametrize

from rnndyn.analysis.gradients import bptt_log_gradient_norms, gradient_growth_rate
from rnndyn.analysis.lyapunov import lyapunov_spectrum_autograd
from rnndyn.claims import Claim, claim_close, claim_holds
from rnndyn.models import RecurrentModel, build_model
from rnndyn.seeding import derive_seed, numpy_generator, torch_generator
from rnndyn.systems.tasks import copy_task, copy_task_baseline_cross_entropy
from rnndyn.training import TrainConfig, TrainResult, train

# Architectures whose memory the literature expects to outlast the vanilla tanh network's.
MEMORY_ARCHITECTURES = ("orthogonal", "lstm", "gru")
# Reference networks of the initialisation experiment, beside the trained architectures.
ORTHOGONAL_LINEAR = "orthogonal_linear"
VANILLA_CHAOTIC = "vanilla_chaotic"
FLOAT64_EPS = float(np.finfo(np.float64).eps)


def model_options(arch: str, cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Factory name and options of an architecture of the stage (``cfg``: the ``taming`` section)."""
    if arch == ORTHOGONAL_LINEAR:
        return "orthogonal", {"nonlinearity": "linear"}
    if arch == VANILLA_CHAOTIC:
        return "vanilla", {"g": cfg["init"]["chaotic_g"]}
    options = {"vanilla": {"g": cfg["g"]}, "spectral": {"g": cfg["g"]},
               "leaky": {"alpha": cfg["leaky_alpha"], "g": cfg["g"]}}
    return arch, options.get(arch, {})


def build(arch: str, cfg: dict[str, Any], generator: torch.Generator,
          dtype: torch.dtype = torch.float32) -> RecurrentModel:
    """The stage's model ``arch`` for the copy task (inputs n_symbols + 2, outputs n_symbols + 1)."""
    name, options = model_options(arch, cfg)
    n_symbols = cfg["copy"]["n_symbols"]
    return build_model(name, input_size=n_symbols + 2, hidden_size=cfg["hidden_size"], output_size=n_symbols + 1,
                       generator=generator, dtype=dtype, **options)


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


def initial_gradients(cfg: dict[str, Any], base_seed: int) -> xr.Dataset:
    """Gradient norm against lag at initialisation, every architecture plus the two references.

    Models are built in float64; inputs are copy-task trials (``n_trials``, ``n_lags`` steps
    long, one-hot symbols then blanks).

    Returns
    -------
    xarray.Dataset
        ``log_gradient_norm`` (architecture, trial, lag), the growth rate fitted on lags
        ``≥ n_lags / 4`` and the maximum norm over lags ≥ 1.
    """
    icfg, ccfg = cfg["init"], cfg["copy"]
    archs = list(cfg["architectures"]) + [ORTHOGONAL_LINEAR, VANILLA_CHAOTIC]
    n_lags = icfg["n_lags"]
    inputs, _ = copy_task(numpy_generator(base_seed, "taming", "init", "inputs"), n_trials=icfg["n_trials"],
                          delay=n_lags - 2 * ccfg["length"], n_symbols=ccfg["n_symbols"], length=ccfg["length"])
    x = torch.from_numpy(inputs)
    log_norms = np.stack([
        gradient_norms(build(arch, cfg, torch_generator(base_seed, "taming", "init", arch), torch.float64), x)
        for arch in archs])
    rate, error = gradient_growth_rate(log_norms, min_lag=n_lags // 4)
    return xr.Dataset(
        {
            "log_gradient_norm": (("architecture", "trial", "lag"), log_norms,
                                  {"long_name": "log ||dL/ds_{T-lag}|| at initialisation (BPTT, float64)",
                                   "units": "1"}),
            "gradient_rate": (("architecture",), rate,
                              {"long_name": "growth rate per step of the gradient norm (lags >= n_lags / 4)",
                               "units": "1/step"}),
            "gradient_rate_error": (("architecture",), error,
                                    {"long_name": "standard error of the growth rate over trials", "units": "1/step"}),
            "max_gradient_norm": (("architecture",), np.exp(log_norms[..., 1:].max(axis=(1, 2))),
                                  {"long_name": "largest gradient norm over trials and lags >= 1", "units": "1"}),
        },
        coords={
            "architecture": ("architecture", archs, {"long_name": "architecture", "units": "1"}),
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


def leaky_impulse_response(cfg: dict[str, Any], base_seed: int) -> xr.Dataset:
    """Impulse response of the factory's leaky unit and its measured e-fold time, per α.

    A leaky network with no recurrent coupling (``g = 0``, so ``W = 0``; float64) receives one
    one-hot input at step 0 and zeros after it; its state then evolves as ``h ← (1 − α) h``.

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
                            generator=torch_generator(base_seed, "taming", "leaky", float(alpha)),
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


def initialisation(cfg: dict[str, Any], base_seed: int) -> xr.Dataset:
    """The initialisation rule: :func:`initial_gradients` and :func:`leaky_impulse_response`."""
    return xr.merge([initial_gradients(cfg, base_seed), leaky_impulse_response(cfg, base_seed)],
                    combine_attrs="drop_conflicts")


# --- training on the copy task ----------------------------------------------------------------------

def copy_data(cfg: dict[str, Any], delay: int, seed: int, base_seed: int) -> dict[str, torch.Tensor]:
    """Training and test trials of the copy task at ``delay`` (the same for every architecture).

    Returns float32 one-hot inputs ``(n, L + 2·length, n_symbols + 2)`` and int64 targets ``(n, T)``.
    """
    ccfg = cfg["copy"]
    out = {}
    for split, n in (("train", ccfg["n_train"]), ("test", ccfg["n_test"])):
        x, y = copy_task(numpy_generator(base_seed, "taming", "copy", delay, seed, split), n_trials=n, delay=delay,
                         n_symbols=ccfg["n_symbols"], length=ccfg["length"])
        out[f"{split}_inputs"] = torch.from_numpy(x).to(torch.float32)
        out[f"{split}_targets"] = torch.from_numpy(y)
    return out


def copy_scores(model: RecurrentModel, inputs: torch.Tensor, targets: torch.Tensor, length: int) -> dict[str, float]:
    """Cross-entropy per step (nats, over the whole trial) and accuracy on the recalled symbols."""
    model.eval()
    with torch.no_grad(), parametrize.cached():
        logits = model.outputs(inputs)
    cross_entropy = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(), targets.reshape(-1))
    recalled = logits[:, -length:].argmax(dim=-1) == targets[:, -length:]
    return {"cross_entropy": float(cross_entropy), "recall_accuracy": float(recalled.double().mean())}


def trained_lambda1(model: RecurrentModel, states: torch.Tensor, cfg: dict[str, Any],
                    rng: np.random.Generator) -> np.ndarray:
    """λ1 ``(B,)`` of the trained network run autonomously with zero input, from ``states`` ``(B, d)``.

    The model is copied to float64 on the CPU; Jacobians by forward-mode autodiff
    (:func:`~rnndyn.analysis.lyapunov.lyapunov_spectrum_autograd`). Parametrised weights are
    evaluated once before the autodiff transforms and reused (``parametrize.cached``).
    """
    lcfg = cfg["lyapunov"]
    model = model.to("cpu", torch.float64)
    zero = torch.zeros(states.shape[0], model.input_size, dtype=torch.float64)
    h0 = states.detach().to("cpu", torch.float64)
    with torch.no_grad(), parametrize.cached():
        model.step(zero, h0)  # fills the cache outside torch.func's transforms

        def step(h: torch.Tensor) -> torch.Tensor:
            return model.step(zero, h)

        result = lyapunov_spectrum_autograd(step, h0, n_steps=lcfg["n_steps"], n_transient=lcfg["n_transient"],
                                            n_exponents=1, rng=rng)
    return result.exponents[:, 0]


def train_copy(arch: str, delay: int, seed: int, cfg: dict[str, Any], base_seed: int, *,
               device: str | torch.device = "cpu", checkpoint_path: str | None = None,
               log: Any = None) -> xr.Dataset:
    """Train ``arch`` on the copy task at ``delay`` (replicate ``seed``) and analyse it (the train rule).

    Returns
    -------
    xarray.Dataset
        Training history (dim ``epoch``), test cross-entropy and recall accuracy with the
        memoryless baseline, λ1 of the trained network per trajectory, and the trained network's
        BPTT log gradient norms against lag on test trials.
    """
    keys = ("taming", arch, delay, seed)
    data = copy_data(cfg, delay, seed, base_seed)
    model = build(arch, cfg, torch_generator(base_seed, *keys, "init"))
    train_config = TrainConfig.from_dict({**cfg["train"], "loss": "cross_entropy"})
    kwargs = {} if log is None else {"log": log}
    result: TrainResult = train(model, (data["train_inputs"], data["train_targets"]),
                                (data["test_inputs"], data["test_targets"]), config=train_config,
                                seed=derive_seed(base_seed, *keys, "order"),
                                device=device, checkpoint_path=checkpoint_path, **kwargs)
    model = model.to("cpu", torch.float64)
    ccfg, lcfg = cfg["copy"], cfg["lyapunov"]
    scores = copy_scores(model, data["test_inputs"].double(), data["test_targets"], ccfg["length"])
    with torch.no_grad(), parametrize.cached():
        _, states = model(data["test_inputs"][: lcfg["n_trajectories"]].double())
    lam1 = trained_lambda1(model, states[:, -1], cfg, numpy_generator(base_seed, *keys, "basis"))
    log_norms = gradient_norms(model, data["test_inputs"][: cfg["init"]["n_trials"]].double())
    baseline = copy_task_baseline_cross_entropy(delay, n_symbols=ccfg["n_symbols"], length=ccfg["length"])
    scalars = {
        "test_cross_entropy": (scores["cross_entropy"], "test cross-entropy per step", "nat"),
        "recall_accuracy": (scores["recall_accuracy"], "test accuracy on the recalled symbols", "1"),
        "baseline_cross_entropy": (baseline, "memoryless baseline length ln(n_symbols) / (L + 2 length)", "nat"),
    }
    out = xr.Dataset(
        {name: ((), value, {"long_name": long, "units": units}) for name, (value, long, units) in scalars.items()}
        | {
            "lambda1": (("trajectory",), lam1,
                        {"long_name": "largest Lyapunov exponent, autonomous zero-input dynamics", "units": "1/step"}),
            "log_gradient_norm": (("trial", "lag"), log_norms,
                                  {"long_name": "log ||dL/ds_{T-lag}|| of the trained network on test trials",
                                   "units": "1"}),
        },
        coords={"trajectory": ("trajectory", np.arange(lam1.size), {"long_name": "start (test trial)", "units": "1"}),
                "trial": ("trial", np.arange(log_norms.shape[0]), {"long_name": "test trial", "units": "1"}),
                "lag": ("lag", np.arange(log_norms.shape[1]), {"long_name": "lag T - k", "units": "step"})},
        attrs={"architecture": arch, "delay": delay, "seed_index": seed, "status": result.status,
               "diverged_epoch": -1 if result.diverged_epoch is None else result.diverged_epoch,
               "epochs_run": result.epochs_run, "device": result.device},
    )
    history = result.history.rename({name: f"history_{name}" for name in result.history.data_vars})
    return xr.merge([out, history], combine_attrs="override")


# --- analysis and claims ------------------------------------------------------------------------------

def summarise(init: xr.Dataset, runs: list[xr.Dataset], cfg: dict[str, Any]) -> xr.Dataset:
    """Copy-task scores and λ1 of every run on (architecture, delay, seed), with the solved delays.

    A delay is *solved* by an architecture when the seed-mean recall accuracy reaches
    ``analysis.solve_accuracy``.
    """
    archs = list(cfg["architectures"])
    delays = sorted(cfg["copy"]["delays"])
    seeds = list(range(cfg["n_seeds"]))
    by_key = {(r.attrs["architecture"], int(r.attrs["delay"]), int(r.attrs["seed_index"])): r for r in runs}
    shape = (len(archs), len(delays), len(seeds))

    def grid(fn) -> np.ndarray:
        out = np.full(shape, np.nan)
        for i, a in enumerate(archs):
            for j, L in enumerate(delays):
                for k, s in enumerate(seeds):
                    out[i, j, k] = fn(by_key[(a, L, s)])
        return out

    accuracy = grid(lambda r: float(r["recall_accuracy"]))
    cross_entropy = grid(lambda r: float(r["test_cross_entropy"]))
    lam1 = grid(lambda r: float(r["lambda1"].mean()))
    diverged = grid(lambda r: float(r.attrs["status"] == "diverged"))
    rate = grid(lambda r: float(gradient_growth_rate(r["log_gradient_norm"].values,
                                                     min_lag=r.sizes["lag"] // 4)[0]))
    max_norm = grid(lambda r: float(np.exp(r["log_gradient_norm"].values[:, 1:].max())))
    baseline = np.array([copy_task_baseline_cross_entropy(L, n_symbols=cfg["copy"]["n_symbols"],
                                                          length=cfg["copy"]["length"]) for L in delays])
    solved = accuracy.mean(axis=-1) >= cfg["analysis"]["solve_accuracy"]
    longest = np.array([max([L for L, ok in zip(delays, row) if ok], default=0) for row in solved])
    dims = ("architecture", "delay", "seed")
    summary = xr.Dataset(
        {
            "recall_accuracy": (dims, accuracy, {"long_name": "test accuracy on the recalled symbols", "units": "1"}),
            "cross_entropy": (dims, cross_entropy, {"long_name": "test cross-entropy per step", "units": "nat"}),
            "baseline_cross_entropy": (("delay",), baseline,
                                       {"long_name": "memoryless baseline 10 ln 8 / (L + 20)", "units": "nat"}),
            "lambda1": (dims, lam1, {"long_name": "lambda1 of the trained network (zero input)", "units": "1/step"}),
            "diverged": (dims, diverged, {"long_name": "training diverged (1) or not (0)", "units": "1"}),
            "trained_gradient_rate": (dims, rate, {"long_name": "gradient growth rate of the trained network",
                                                   "units": "1/step"}),
            "trained_max_gradient_norm": (dims, max_norm, {"long_name": "largest gradient norm, lags >= 1, trained",
                                                           "units": "1"}),
            "solved": (("architecture", "delay"), solved,
                       {"long_name": "seed-mean recall accuracy >= solve_accuracy", "units": "1"}),
            "longest_solved_delay": (("architecture",), longest,
                                     {"long_name": "longest delay solved (0: none)", "units": "step"}),
        },
        coords={"architecture": ("architecture", archs, {"long_name": "architecture", "units": "1"}),
                "delay": ("delay", np.asarray(delays), {"long_name": "copy-task delay L", "units": "step"}),
                "seed": ("seed", np.asarray(seeds), {"long_name": "replicate index", "units": "1"})},
        attrs={**cfg["analysis"], "epochs": cfg["train"]["epochs"], "n_train": cfg["copy"]["n_train"],
               "chaotic_g": cfg["init"]["chaotic_g"]},
    )
    init_vars = init.rename({name: f"init_{name}" for name in ("log_gradient_norm", "gradient_rate",
                                                                 "gradient_rate_error", "max_gradient_norm")})
    init_vars = init_vars.rename({"architecture": "init_architecture", "lag": "init_lag", "trial": "init_trial"})
    return xr.merge([summary, init_vars], combine_attrs="override")


def claims(summary: xr.Dataset, cfg: dict[str, Any]) -> list[Claim]:
    """The ``taming`` claims from :func:`summarise`'s dataset."""
    out: list[Claim] = []
    init = summary.rename({"init_architecture": "architecture_init"})
    n = cfg["hidden_size"]
    n_lags = summary.sizes["init_lag"] - 1
    # Each matrix-vector product of the backward pass rounds with a relative error of at most about
    # n ε (n terms per entry); over n_lags products these add up to n_lags · n · ε.
    roundoff = n_lags * n * FLOAT64_EPS
    ortho = np.exp(init["init_log_gradient_norm"].sel(architecture_init=ORTHOGONAL_LINEAR).values)
    out.append(claim_close(
        "taming/orthogonal_linear_gradient_norm", "max over lags and trials of | ||dL/dh_{T-lag}|| - 1 |, "
        "orthogonal linear network at initialisation (float64)",
        measured=float(np.abs(ortho - 1.0).max()), expected=0.0, tolerance=roundoff,
        note=f"tolerance n_lags * N * eps = {n_lags} * {n} * 2.2e-16; {ortho.shape[0]} trials"))

    def max_norm_claim(claim_id: str, what: str, value: float, note: str) -> Claim:
        return claim_holds(claim_id, what, measured=value, expected=1.0, tolerance=roundoff,
                           passed=value <= 1.0 + roundoff, note=note)

    if "spectral" in summary["architecture"].values:
        out.append(max_norm_claim(
            "taming/spectral_gradient_norm_at_init",
            "largest gradient norm over lags >= 1 and trials, spectral-norm network at initialisation (<= 1)",
            float(init["init_max_gradient_norm"].sel(architecture_init="spectral")),
            f"||W||_2 <= 1 and |tanh'| <= 1; round-off allowance {roundoff:.1e}"))
        out.append(max_norm_claim(
            "taming/spectral_gradient_norm_trained",
            "largest gradient norm over lags >= 1, trials, delays and seeds, trained spectral-norm networks (<= 1)",
            float(summary["trained_max_gradient_norm"].sel(architecture="spectral").max()),
            "after training the bound still holds: the constraint is a parametrisation"))
    chaotic = init.sel(architecture_init=VANILLA_CHAOTIC)
    rate = float(chaotic["init_gradient_rate"])
    out.append(claim_holds(
        "taming/vanilla_chaotic_gradient_explodes",
        f"gradient growth rate per step of a vanilla tanh network with g = {summary.attrs['chaotic_g']:g} "
        "at initialisation (explodes: > 0)",
        measured=rate, expected=0.0, passed=rate > 0.0, unit="1/step",
        note=f"standard error {float(chaotic['init_gradient_rate_error']):.2g}; fitted on lags >= {n_lags // 4}; "
             + ", ".join(f"{a}: {float(r):+.3f}" for a, r in zip(init["architecture_init"].values,
                                                                   init["init_gradient_rate"].values))))

    rel = np.abs(summary["efold_time"] - summary["efold_time_exact"]) / summary["efold_time_exact"]
    approx = np.abs(summary["efold_time_approx"] - summary["efold_time_exact"]) / summary["efold_time_exact"]
    out.append(claim_close(
        "taming/leaky_efold_time", "max over alpha of |measured e-fold time / (-1/ln(1 - alpha)) - 1|",
        measured=float(rel.max()), expected=0.0, tolerance=cfg["analysis"]["efold_rel_tol"],
        note=f"alpha = {np.array2string(summary['alpha'].values)}; measured "
             f"{np.array2string(summary['efold_time'].values, precision=4)} steps; 1/alpha is off by "
             f"{np.array2string(approx.values, precision=3)} (relative)"))

    vanilla = int(summary["longest_solved_delay"].sel(architecture="vanilla")) \
        if "vanilla" in summary["architecture"].values else 0
    acc = summary["recall_accuracy"].mean("seed")
    ce_ratio = (summary["cross_entropy"] / summary["baseline_cross_entropy"]).mean("seed")
    budget = (f"budget {summary.attrs['epochs']} epochs x {summary.attrs['n_train']} trials, "
              f"solve = seed-mean recall accuracy >= {summary.attrs['solve_accuracy']:g}")
    for arch in MEMORY_ARCHITECTURES:
        if arch not in summary["architecture"].values:
            continue
        longest = int(summary["longest_solved_delay"].sel(architecture=arch))
        out.append(claim_holds(
            f"taming/copy_{arch}_beats_vanilla",
            f"longest copy-task delay solved by {arch} exceeds the vanilla tanh network's",
            measured=longest, expected=vanilla, passed=longest > vanilla, unit="step",
            note=f"expected: more than vanilla's {vanilla}; {budget}; recall accuracy per delay "
                 + ", ".join(f"L={int(L)}: {arch} {float(acc.sel(architecture=arch, delay=L)):.2f} / vanilla "
                             f"{float(acc.sel(architecture='vanilla', delay=L)):.2f} (CE/baseline "
                             f"{float(ce_ratio.sel(architecture=arch, delay=L)):.2f} / "
                             f"{float(ce_ratio.sel(architecture='vanilla', delay=L)):.2f})"
                             for L in summary["delay"].values)))

    trained_lambda1_note = "lambda1 (zero input) per architecture and delay: " + "; ".join(
        f"{a}: " + ", ".join(f"{float(summary['lambda1'].sel(architecture=a, delay=L).mean()):+.3f}"
                             for L in summary["delay"].values)
        for a in summary["architecture"].values)
    solvers = [a for a in summary["architecture"].values if int(summary["longest_solved_delay"].sel(architecture=a))]
    if not solvers:
        out.append(claim_holds(
            "taming/edge_of_chaos", "lambda1 of trained networks that solve their longest delay is near 0",
            measured=math.nan, expected=0.0, passed=False,
            note="no architecture solved any delay in this budget; " + trained_lambda1_note))
    for arch in solvers:
        longest = int(summary["longest_solved_delay"].sel(architecture=arch))
        lam = float(summary["lambda1"].sel(architecture=arch, delay=longest).mean())
        out.append(claim_close(
            f"taming/edge_of_chaos_{arch}",
            f"lambda1 (zero input) of {arch} trained at its longest solved delay, mean over seeds",
            measured=lam, expected=0.0, tolerance=1.0 / longest, unit="1/step",
            note=f"delay {longest}; tolerance 1/L: a state perturbation neither grows nor decays by more than "
                 f"e over the delay it must bridge; " + trained_lambda1_note))
    return out
