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
  delay × replicate trained with the shared trainer (cross-entropy). The memoryless baseline is
  ``10 ln 8 / (L + 20)`` nats per step. Expected from the literature: gated (LSTM, GRU) and
  orthogonal networks solve delays at which the vanilla tanh network stays at the baseline.
- **After training**, λ1 of each trained network run autonomously with zero input (the "edge of
  chaos": near 0 for models that hold memories over long delays).

The jobs, one module each so that a job imports only what it uses:

- ``taming_init`` (:mod:`rnndyn.stages.taming_init`): gradients at initialisation, leaky unit;
- ``taming_train`` and ``taming_analyse`` (:mod:`rnndyn.stages.taming_copy`): one network of the
  copy task, trained (the trained-network store) and then analysed (test scores, λ1, gradients);
- ``taming_claims`` (this module, no torch): the summary over every network and the claims.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from rnndyn.claims import Claim, claim_close, claim_holds

if TYPE_CHECKING:
    from rnndyn.jobs import Job

# Architectures whose memory the literature expects to outlast the vanilla tanh network's.
MEMORY_ARCHITECTURES = ("orthogonal", "lstm", "gru")
# Reference networks of the initialisation experiment, beside the trained architectures.
ORTHOGONAL_LINEAR = "orthogonal_linear"
VANILLA_CHAOTIC = "vanilla_chaotic"
FLOAT64_EPS = float(np.finfo(np.float64).eps)
# The figures (STAGE_FIGURES["taming"] in workflow/rules/taming.smk) where the claims can be seen.
COPY_FIGURE = "taming_copy"
GRADIENT_FIGURE = "taming_gradients"  # gradient norms at initialisation (left), leaky unit (right)
LAMBDA1_FIGURE = "taming_lambda1"


def claims_job(job: Job) -> None:
    """Rule ``taming_claims``: the summary of every network of the copy task and the claims."""
    summary = summarise(job.read("init"), job.read_all("analyses"), job.config)
    job.write(summary, "summary")
    job.write_claims(claims(summary, job.config))


def summarise(init: xr.Dataset, analyses: list[xr.Dataset], cfg: dict[str, Any]) -> xr.Dataset:
    """Copy-task scores and λ1 of every network on (arch, delay, replicate), with the solved delays.

    Each network is placed by its store's ``identity`` attributes: architectures in the order they
    first appear, delays and replicates sorted. A delay is *solved* by an architecture when the
    replicate-mean recall accuracy reaches ``analysis.solve_accuracy``.

    Parameters
    ----------
    init
        The ``taming_init`` store.
    analyses
        The ``taming_analyse`` stores, one per network.
    cfg
        ``analysis`` (``solve_accuracy``), ``train.epochs`` and ``copy.n_train`` (the budget).
    """
    by_key = {}
    for ds in analyses:
        identity = ds.attrs["identity"]
        by_key[(identity["arch"], int(identity["delay"]), int(identity["replicate"]))] = ds
    archs = list(dict.fromkeys(arch for arch, _, _ in by_key))
    delays = sorted({delay for _, delay, _ in by_key})
    replicates = sorted({replicate for _, _, replicate in by_key})
    shape = (len(archs), len(delays), len(replicates))

    def grid(fn) -> np.ndarray:
        out = np.full(shape, np.nan)
        for i, a in enumerate(archs):
            for j, L in enumerate(delays):
                for k, r in enumerate(replicates):
                    out[i, j, k] = fn(by_key[(a, L, r)])
        return out

    accuracy = grid(lambda r: float(r["recall_accuracy"]))
    cross_entropy = grid(lambda r: float(r["test_cross_entropy"]))
    lam1 = grid(lambda r: float(r["lambda1"].mean()))
    diverged = grid(lambda r: float(r.attrs["status"] == "diverged"))
    rate = grid(lambda r: float(r["gradient_rate"]))
    max_norm = grid(lambda r: float(r["max_gradient_norm"]))
    baseline = np.array([float(by_key[(archs[0], L, replicates[0])]["baseline_cross_entropy"]) for L in delays])
    solved = accuracy.mean(axis=-1) >= cfg["analysis"]["solve_accuracy"]
    longest = np.array([max([L for L, ok in zip(delays, row) if ok], default=0) for row in solved])
    dims = ("arch", "delay", "replicate")
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
            "solved": (("arch", "delay"), solved,
                       {"long_name": "replicate-mean recall accuracy >= solve_accuracy", "units": "1"}),
            "longest_solved_delay": (("arch",), longest,
                                     {"long_name": "longest delay solved (0: none)", "units": "step"}),
        },
        coords={"arch": ("arch", archs, {"long_name": "architecture", "units": "1"}),
                "delay": ("delay", np.asarray(delays), {"long_name": "copy-task delay L", "units": "step"}),
                "replicate": ("replicate", np.asarray(replicates), {"long_name": "replicate network", "units": "1"})},
        attrs={**cfg["analysis"], "epochs": cfg["train"]["epochs"], "n_train": cfg["copy"]["n_train"],
               "chaotic_g": init.attrs["chaotic_g"], "hidden_size": init.attrs["hidden_size"]},
    )
    init_vars = init.rename({name: f"init_{name}" for name in ("log_gradient_norm", "gradient_rate",
                                                                 "gradient_rate_error", "max_gradient_norm")})
    init_vars = init_vars.rename({"arch": "init_arch", "lag": "init_lag", "trial": "init_trial"})
    return xr.merge([summary, init_vars], combine_attrs="override")


def claims(summary: xr.Dataset, cfg: dict[str, Any]) -> list[Claim]:
    """The ``taming`` claims from :func:`summarise`'s dataset (``cfg``: ``analysis.efold_rel_tol``)."""
    out: list[Claim] = []
    init = summary.rename({"init_arch": "arch_init"})
    n = int(summary.attrs["hidden_size"])
    n_lags = summary.sizes["init_lag"] - 1
    # Each matrix-vector product of the backward pass rounds with a relative error of at most about
    # n ε (n terms per entry); over n_lags products these add up to n_lags · n · ε.
    roundoff = n_lags * n * FLOAT64_EPS
    ortho = np.exp(init["init_log_gradient_norm"].sel(arch_init=ORTHOGONAL_LINEAR).values)
    out.append(claim_close(
        "taming/orthogonal_linear_gradient_norm", "max over lags and trials of | ||dL/dh_{T-lag}|| - 1 |, "
        "orthogonal linear network at initialisation (float64)",
        kind="identity", measured=float(np.abs(ortho - 1.0).max()), expected=0.0, tolerance=roundoff,
        figure=GRADIENT_FIGURE,
        note=f"identity: the backward pass multiplies by the orthogonal W^T, which keeps norms exactly; "
             f"tolerance derived from round-off: n_lags * N * eps = {n_lags} * {n} * 2.2e-16; "
             f"{ortho.shape[0]} trials"))

    def max_norm_claim(claim_id: str, what: str, value: float, figure: str, note: str) -> Claim:
        return claim_holds(claim_id, what, kind="identity", criterion="<=", measured=value, expected=1.0,
                           tolerance=roundoff, passed=value <= 1.0 + roundoff, figure=figure,
                           note=f"identity: the bound holds by construction; {note}; the rule is "
                                f"measured <= 1 + round-off allowance (derived: n_lags * N * eps = {roundoff:.1e})")

    if "spectral" in summary["arch"].values:
        out.append(max_norm_claim(
            "taming/spectral_gradient_norm_at_init",
            "largest gradient norm over lags >= 1 and trials, spectral-norm network at initialisation (<= 1)",
            float(init["init_max_gradient_norm"].sel(arch_init="spectral")), GRADIENT_FIGURE,
            "||W||_2 <= 1 (the parametrisation) and |tanh'| <= 1"))
        out.append(max_norm_claim(
            "taming/spectral_gradient_norm_trained",
            "largest gradient norm over lags >= 1, trials, delays and replicates, trained spectral-norm networks "
            "(<= 1)",
            float(summary["trained_max_gradient_norm"].sel(arch="spectral").max()), "",
            "after training the bound still holds: the constraint is a parametrisation; no figure shows "
            "trained gradient norms"))
    chaotic = init.sel(arch_init=VANILLA_CHAOTIC)
    rate = float(chaotic["init_gradient_rate"])
    out.append(claim_holds(
        "taming/vanilla_chaotic_gradient_explodes",
        f"gradient growth rate per step of a vanilla tanh network with g = {summary.attrs['chaotic_g']:g} "
        "at initialisation (explodes: > 0)",
        kind="theory", criterion=">", measured=rate, expected=0.0, passed=rate > 0.0, unit="1/step",
        figure=GRADIENT_FIGURE,
        note=f"theory: a random tanh network with g > 1 is chaotic in the large-N limit (Molgedey, Schuchhardt "
             f"& Schuster 1992), so its backward products grow; measured > 0 (a sign, no tolerance); one random network at initialisation, rate fitted over trials; standard error "
             f"{float(chaotic['init_gradient_rate_error']):.2g} (reported, not used by the rule); "
             f"fitted on lags >= {n_lags // 4}; "
             + ", ".join(f"{a}: {float(r):+.3f}" for a, r in zip(init["arch_init"].values,
                                                                   init["init_gradient_rate"].values))))

    rel = np.abs(summary["efold_time"] - summary["efold_time_exact"]) / summary["efold_time_exact"]
    approx = np.abs(summary["efold_time_approx"] - summary["efold_time_exact"]) / summary["efold_time_exact"]
    out.append(claim_close(
        "taming/leaky_efold_time", "max over alpha of |measured e-fold time / (-1/ln(1 - alpha)) - 1|",
        kind="identity", measured=float(rel.max()), expected=0.0, tolerance=cfg["analysis"]["efold_rel_tol"],
        figure=GRADIENT_FIGURE,
        note=f"identity: the unit has g = 0 (no recurrent input) and zero input after the impulse, so "
             f"h_t = (1 - alpha)^t h_0 exactly; expected -1/ln(1 - alpha) (STUDY.md); tolerance "
             f"{cfg['analysis']['efold_rel_tol']:g} relative: our declared choice (analysis.efold_rel_tol); "
             f"alpha = {np.array2string(summary['alpha'].values)}; measured "
             f"{np.array2string(summary['efold_time'].values, precision=4)} steps; 1/alpha is off by "
             f"{np.array2string(approx.values, precision=3)} (relative)"))

    n_replicates = int(summary.sizes["replicate"])
    vanilla = int(summary["longest_solved_delay"].sel(arch="vanilla")) if "vanilla" in summary["arch"].values else 0
    acc = summary["recall_accuracy"].mean("replicate")
    ce_ratio = (summary["cross_entropy"] / summary["baseline_cross_entropy"]).mean("replicate")
    budget = (f"budget {summary.attrs['epochs']} epochs x {summary.attrs['n_train']} trials, "
              f"solve = replicate-mean recall accuracy >= {summary.attrs['solve_accuracy']:g}")
    for arch in MEMORY_ARCHITECTURES:
        if arch not in summary["arch"].values:
            continue
        longest = int(summary["longest_solved_delay"].sel(arch=arch))
        out.append(claim_holds(
            f"taming/copy_{arch}_beats_vanilla",
            f"longest copy-task delay solved by {arch} exceeds the vanilla tanh network's",
            kind="finding", criterion=">", measured=longest, expected=vanilla, passed=longest > vanilla,
            unit="step", figure=COPY_FIGURE,
            note=f"finding over {n_replicates} replicate(s) per architecture and delay: a delay is solved on the "
                 f"replicate mean, no interval; expected (to exceed vanilla's {vanilla}) "
                 f"from the literature: Hochreiter & Schmidhuber 1997; Arjovsky, Shah & Bengio 2016); the solve "
                 f"threshold is our declared choice (analysis.solve_accuracy); {budget}; recall accuracy per delay "
                 + ", ".join(f"L={int(L)}: {arch} {float(acc.sel(arch=arch, delay=L)):.2f} / vanilla "
                             f"{float(acc.sel(arch='vanilla', delay=L)):.2f} (CE/baseline "
                             f"{float(ce_ratio.sel(arch=arch, delay=L)):.2f} / "
                             f"{float(ce_ratio.sel(arch='vanilla', delay=L)):.2f})"
                             for L in summary["delay"].values)))

    trained_lambda1_note = "lambda1 (zero input) per architecture and delay: " + "; ".join(
        f"{a}: " + ", ".join(f"{float(summary['lambda1'].sel(arch=a, delay=L).mean()):+.3f}"
                             for L in summary["delay"].values)
        for a in summary["arch"].values)
    solvers = [a for a in summary["arch"].values if int(summary["longest_solved_delay"].sel(arch=a))]
    if not solvers:
        out.append(claim_holds(
            "taming/edge_of_chaos", "lambda1 of trained networks that solve their longest delay is near 0",
            kind="finding", criterion="=±tol", measured=math.nan, expected=0.0, passed=False, figure=LAMBDA1_FIGURE,
            note=f"finding over {n_replicates} replicate(s); no architecture solved any delay in this budget, so "
                 "there is no network to measure; " + trained_lambda1_note))
    for arch in solvers:
        longest = int(summary["longest_solved_delay"].sel(arch=arch))
        lam = float(summary["lambda1"].sel(arch=arch, delay=longest).mean())
        out.append(claim_close(
            f"taming/edge_of_chaos_{arch}",
            f"lambda1 (zero input) of {arch} trained at its longest solved delay, mean over replicates",
            kind="finding", measured=lam, expected=0.0, tolerance=1.0 / longest, unit="1/step",
            figure=LAMBDA1_FIGURE,
            note=f"finding: mean over {n_replicates} replicate(s), no interval; delay {longest}; expected 0: the "
                 f"edge of chaos (the study's reading, not a published value); tolerance 1/L, our declared choice: "
                 f"a state perturbation neither grows nor decays by more than e over the delay it must bridge; "
                 + trained_lambda1_note))
    return out
