"""The Lorenz stage (claims ``takens``, ``rnn-lyapunov``, ``dsr-metrics``): the table of trained
networks, the choice of the best one and the claims (rule ``lorenz_claims``).

The stage's jobs, one module each: the data (:mod:`.lorenz_data`), the engine's reference spectrum
(:mod:`.lorenz_reference`), the truth every network is compared with (:mod:`.lorenz_truth`), one
network per architecture x hidden size x replicate trained on the standardised x(t) alone
(:mod:`.lorenz_training`) and analysed in closed loop (:mod:`.lorenz_analysis`); this module
gathers every network, chooses the best without looking at its spectrum, and states the claims.
It imports neither torch nor the analyses: every number it reads is in the stores.

Choosing the best network. Networks are ranked by their median valid prediction time on the
validation split (the closed-loop skill the training aims at, measured on data neither the
training nor the claims use); completed runs rank before diverged ones, ties go to the lower final
validation loss. The spectrum, the topology and the test-split metrics play no part, so the claims
on them are not selected for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from rnndyn.claims import Claim, claim_close, claim_holds
from rnndyn.systems.lorenz import KAPLAN_YORKE_DIMENSION, LYAPUNOV_SPECTRUM, LYAPUNOV_SUM

if TYPE_CHECKING:
    from rnndyn.jobs import Job

REFERENCE_TOL = (0.005, 0.005, 0.02)
"""Tolerance of the engine's spectrum against Sprott's (0.9056, 0, −14.5723): a few standard
errors of the default budget plus the O(dt⁴) bias of the RK4 map at dt = 0.01."""
REFERENCE_SUM_TOL = 1e-3
REFERENCE_KY_TOL = 0.005
NETWORK_RELATIVE_TOL = 0.10
"""λ1 and λ3 of the best network within 10 % of Lorenz's."""
NETWORK_LAMBDA2_TOL = 0.05
"""|λ2| of the best network at most 0.05 (the flow direction's zero exponent)."""
D2_EXPECTED, D2_TOL = 2.05, 0.15
"""Lorenz's correlation dimension 2.05 ± 0.01 (Grassberger & Procaccia 1983); the tolerance covers
the spread of finite-trajectory estimates (±0.05 at 10⁴ points, see rnndyn.analysis.dimension) and
the bias of the fixed C-window fit (up to +0.05 on (x, y, z))."""
PUBLISHED_GRU_40 = (0.9075, -0.0043, -14.312)
PUBLISHED_LSTM = (0.832, -0.0012, -14.056)
METRICS = ("d_stsp", "d_h")


def claims_job(job: Job) -> None:
    """Rule ``lorenz_claims``: the summary of every network (:func:`summarise`) and the stage's claims."""
    summary = summarise(job.read_all("models"), job.read_all("analyses"))
    job.write(summary, "summary")
    job.write_claims(reference_claims(job.read("reference")) + network_claims(summary, job.read("truth")))


def network_key(identity: Mapping[str, Any]) -> tuple[str, int, int]:
    """``(arch, hidden, replicate)`` of a trained network's identity (its store's ``identity`` attribute)."""
    return str(identity["arch"]), int(identity["hidden"]), int(identity["replicate"])


def network_label(identity: Mapping[str, Any]) -> str:
    """A network's name for tables and figures, ``<arch>_h<hidden>_rep<replicate>`` (e.g. ``gru_h32_rep0``)."""
    arch, hidden, replicate = network_key(identity)
    return f"{arch}_h{hidden}_rep{replicate}"


def reference_claims(reference: xr.Dataset) -> list[Claim]:
    """``rnn-lyapunov/lorenz_reference_*``: the engine reproduces Lorenz's spectrum."""
    mean = reference["exponents"].mean("trajectory").values
    n, t_total = reference.sizes["trajectory"], reference.attrs["t_total"]
    note = (f"{n} trajectories x {t_total:g} time units, RK4 dt = {reference.attrs['dt']:g}; reference: Sprott "
            "(RK4, h = 0.001, 1e9 steps); tolerance: a few standard errors of this budget plus the RK4 map's "
            "O(dt^4) bias, our declared choice (the sum: -(sigma + 1 + beta) exactly, less the RK4 bias of 1e-4)")
    claims = [
        claim_close(f"rnn-lyapunov/lorenz_reference_lambda{k + 1}", f"Lorenz-63 exponent λ{k + 1} from the QR engine",
                    kind="theory", measured=mean[k], expected=LYAPUNOV_SPECTRUM[k], tolerance=REFERENCE_TOL[k],
                    unit="1/time", note=note, figure="lorenz_convergence")
        for k in range(3)
    ]
    claims.append(claim_close("rnn-lyapunov/lorenz_reference_sum", "sum of the exponents = −(σ + 1 + β)",
                              kind="theory", measured=float(reference["spectrum_sum"].mean()), expected=LYAPUNOV_SUM,
                              tolerance=REFERENCE_SUM_TOL, unit="1/time", note=note, figure="lorenz_spectra"))
    claims.append(claim_close("rnn-lyapunov/lorenz_reference_kaplan_yorke", "Kaplan–Yorke dimension of the spectrum",
                              kind="theory", measured=float(reference["kaplan_yorke"]),
                              expected=KAPLAN_YORKE_DIMENSION, tolerance=REFERENCE_KY_TOL, note=note))
    return claims


def summarise(models: list[xr.Dataset], analyses: list[xr.Dataset]) -> xr.Dataset:
    """One row per trained network: its identity, training outcome and every analysed number.

    Parameters
    ----------
    models, analyses
        The training jobs' and the analysis jobs' stores, each carrying its network's identity
        (attribute ``identity``); every network needs both, in any order (rows follow ``models``).

    Returns
    -------
    xarray.Dataset
        On dim ``model`` (labels :func:`network_label`): ``arch``, ``hidden``, ``replicate``,
        ``status``, ``final_val_loss``, ``vpt_val_median``, test VPT quartiles and all test VPTs,
        the full spectrum (NaN-padded on ``exponent``), D_KY, D_stsp, D_H, topology numbers,
        ``best_of_arch`` and ``best``.
    """
    by_key = {network_key(a.attrs["identity"]): a for a in analyses}
    keys = [network_key(m.attrs["identity"]) for m in models]
    missing = [k for k in keys if k not in by_key]
    if missing or len(by_key) != len(keys):
        raise ValueError(f"summarise: networks without an analysis {missing}, or analyses without a network")
    analyses = [by_key[k] for k in keys]
    labels = [network_label(m.attrs["identity"]) for m in models]
    n_exp = max(a.sizes["exponent"] for a in analyses)
    spectra = np.full((len(labels), n_exp), np.nan)
    for i, a in enumerate(analyses):
        spectra[i, : a.sizes["exponent"]] = a["lyapunov_mean"].values
    vpt_test = np.stack([a["vpt_test"].values for a in analyses])
    vpt_val_median = np.array([np.median(a["vpt_val"].values) for a in analyses])
    final_val_loss = np.array([float(m["val_loss"].values[-1]) for m in models])
    status = np.array([m.attrs["status"] for m in models])
    arch = np.array([k[0] for k in keys])
    rank = best_order(status, vpt_val_median, final_val_loss)
    best_of_arch = np.zeros(len(labels), dtype=bool)
    for name in np.unique(arch):
        best_of_arch[next(i for i in rank if arch[i] == name)] = True
    one = {"units": "1"}

    def scalar(name: str) -> np.ndarray:
        return np.array([float(a[name]) for a in analyses])

    table = {
        "arch": ("model", arch.astype(object), {"long_name": "architecture", **one}),
        "hidden": ("model", np.array([k[1] for k in keys]), {"long_name": "hidden size", **one}),
        "replicate": ("model", np.array([k[2] for k in keys]), {"long_name": "replicate index", **one}),
        "status": ("model", status.astype(object), {"long_name": "training outcome", **one}),
        "final_val_loss": ("model", final_val_loss, {"long_name": "validation loss after the last epoch",
                                                      "units": "(standardised x)^2"}),
        "vpt_val_median": ("model", vpt_val_median, {"long_name": "median valid prediction time, validation split",
                                                     "units": "Lyapunov times"}),
        "vpt_test": (("model", "test_trajectory"), vpt_test,
                     {"long_name": "valid prediction time, test split", "units": "Lyapunov times"}),
        "vpt_test_quartiles": (("model", "quartile"), np.percentile(vpt_test, [25, 50, 75], axis=1).T,
                               {"long_name": "quartiles of the test valid prediction time", "units": "Lyapunov times"}),
        "lyapunov": (("model", "exponent"), spectra,
                     {"long_name": "closed-loop Lyapunov spectrum, NaN beyond the state size", "units": "1/time"}),
        "kaplan_yorke": ("model", scalar("kaplan_yorke"), {"long_name": "Kaplan-Yorke dimension", **one}),
        "d_stsp": ("model", scalar("d_stsp"), {"long_name": "state-space divergence D_stsp", "units": "nat"}),
        "d_h": ("model", scalar("d_h"), {"long_name": "power-spectrum Hellinger distance D_H", **one}),
        "hidden_n_dominant_h1": ("model", scalar("hidden_n_dominant_h1"),
                                 {"long_name": "dominant H1 bars of the closed-loop state cloud", **one}),
        "hidden_d2": ("model", scalar("hidden_d2"), {"long_name": "D2 of the closed-loop state cloud", **one}),
        "generated_delay_d2": ("model", scalar("generated_delay_d2"),
                               {"long_name": "D2 of the delay embedding of the generated x", **one}),
        "generated_x_d2_nolds": ("model", scalar("generated_x_d2_nolds"),
                                 {"long_name": "nolds D2 of the generated x", **one}),
        "generated_x_fnn_dim3": ("model", np.array([float(a["generated_x_fnn"].sel(fnn_dim=3)) for a in analyses]),
                                 {"long_name": "FNN fraction of the generated x at dimension 3", **one}),
        "bottleneck_hidden_true": ("model", scalar("bottleneck_hidden_true"),
                                   {"long_name": "H1 bottleneck distance to the true cloud",
                                    "units": "normalised distance"}),
        "bottleneck_hidden_delay": ("model", scalar("bottleneck_hidden_delay"),
                                    {"long_name": "H1 bottleneck distance to the delay cloud",
                                     "units": "normalised distance"}),
        "best_of_arch": ("model", best_of_arch, {"long_name": "best network of its architecture", **one}),
        "best": ("model", np.arange(len(labels)) == rank[0], {"long_name": "best network overall", **one}),
    }
    return xr.Dataset(table, coords={
        "model": ("model", np.asarray(labels, dtype=object),
                  {"long_name": "network (architecture, hidden size, replicate)"}),
        "exponent": ("exponent", np.arange(1, n_exp + 1), {"long_name": "exponent index", **one}),
        "quartile": ("quartile", [25, 50, 75], {"long_name": "percentile", **one}),
    }, attrs={"title": "Trained Lorenz networks: training outcome and closed-loop analysis",
              "selection": "best = highest median validation VPT; completed before diverged; "
                           "ties to the lower final validation loss"})


def best_order(status: np.ndarray, vpt_val_median: np.ndarray, final_val_loss: np.ndarray) -> list[int]:
    """Indices of networks from best to worst (module docstring): completed first, then by
    decreasing median validation VPT, then by increasing final validation loss (NaN last)."""
    loss = np.where(np.isfinite(final_val_loss), final_val_loss, np.inf)
    return sorted(range(len(status)), key=lambda i: (status[i] != "completed", -vpt_val_median[i], loss[i]))


def _describe(summary: xr.Dataset, label: str) -> str:
    row = summary.sel(model=label)
    return (f"{label} ({row['status'].item()}; median validation VPT {float(row['vpt_val_median']):.2f} "
            f"Lyapunov times)")


def network_claims(summary: xr.Dataset, truth: xr.Dataset) -> list[Claim]:
    """``rnn-lyapunov/best_*``, ``takens/*`` and ``dsr-metrics/*`` claims."""
    best = str(summary["model"].values[summary["best"].values][0])
    row = summary.sel(model=best)
    n_models = summary.sizes["model"]
    chosen = (f"best of {n_models} networks by median validation VPT, not by the spectrum: "
              f"{_describe(summary, best)}; one network, no interval over replicates")
    tolerance = "tolerance our declared choice"
    spectrum = row["lyapunov"].values
    published = f"published 40-unit GRU {list(PUBLISHED_GRU_40)}, LSTM {list(PUBLISHED_LSTM)}"
    claims = [
        claim_close("rnn-lyapunov/best_lambda1", "closed-loop λ1 of the best network (within 10 % of Lorenz's)",
                    kind="finding", measured=spectrum[0], expected=LYAPUNOV_SPECTRUM[0],
                    tolerance=NETWORK_RELATIVE_TOL * LYAPUNOV_SPECTRUM[0], unit="1/time",
                    note=f"{chosen}; {tolerance}; {published}", figure="lorenz_spectra"),
        claim_close("rnn-lyapunov/best_lambda2", "closed-loop λ2 of the best network (|λ2| ≤ 0.05)",
                    kind="finding", measured=spectrum[1], expected=0.0, tolerance=NETWORK_LAMBDA2_TOL, unit="1/time",
                    note=f"{chosen}; {tolerance}", figure="lorenz_spectra"),
        claim_close("rnn-lyapunov/best_lambda3", "closed-loop λ3 of the best network (within 10 % of Lorenz's)",
                    kind="finding", measured=spectrum[2], expected=LYAPUNOV_SPECTRUM[2],
                    tolerance=NETWORK_RELATIVE_TOL * abs(LYAPUNOV_SPECTRUM[2]), unit="1/time",
                    note=f"{chosen}; {tolerance}", figure="lorenz_spectra"),
    ]
    embedding = (f"delay lag {int(truth['delay_lag'])} steps (first AMI minimum), dimension "
                 f"{int(truth['embedding_dim'])} (FNN)")
    clouds = {
        "true": ("true (x, y, z) attractor", int(truth["true_n_dominant_h1"]), float(truth["true_d2"]),
                 float(truth["true_x_d2_nolds"]), "true x"),
        "delay": ("delay embedding of x", int(truth["delay_n_dominant_h1"]), float(truth["delay_d2"]),
                  float(truth["true_x_d2_nolds"]), f"true x; {embedding}"),
        "hidden": (f"closed-loop state of {best}", int(row["hidden_n_dominant_h1"]), float(row["hidden_d2"]),
                   float(row["generated_x_d2_nolds"]),
                   f"the network's x; D2 of the delay embedding of its x {float(row['generated_delay_d2']):.3f}; "
                   f"{chosen}"),
    }
    bottleneck = (f"H1 bottleneck distances true-delay {float(truth['bottleneck_true_delay']):.3f}, "
                  f"network-true {float(row['bottleneck_hidden_true']):.3f}, "
                  f"network-delay {float(row['bottleneck_hidden_delay']):.3f} (unit-RMS clouds)")
    fraction = float(truth.attrs["dominant_fraction"])
    for name, (what, n_bars, d2, d2_nolds, source) in clouds.items():
        kind = "finding" if name == "hidden" else "theory"
        claims.append(claim_close(f"takens/{name}_h1_dominant_bars", f"dominant H1 bars of the {what}",
                                  kind=kind, measured=n_bars, expected=2, tolerance=0, figure="lorenz_persistence",
                                  note=f"expected: Lorenz's two lobes; bars at least {fraction:g} as persistent as "
                                       f"the longest, after dropping the sparsest points: the fraction and the filter "
                                       f"were set after looking at this statistic; {bottleneck}; {source}"))
        claims.append(claim_close(f"takens/{name}_d2", f"correlation dimension D2 of the {what}",
                                  kind=kind, measured=d2, expected=D2_EXPECTED, tolerance=D2_TOL,
                                  note=f"Grassberger-Procaccia on the cloud, fixed scaling window; expected "
                                       f"Grassberger & Procaccia 1983; tolerance derived from the spread of "
                                       f"finite-trajectory estimates and the window's bias; nolds.corr_dim "
                                       f"cross-check on {source.split(';')[0]}: {d2_nolds:.3f}"))
    fnn_threshold = float(truth.attrs["fnn_threshold"])
    fnn_note = (f"Kennel et al. 1992 criteria (rtol 15, atol 2) with a Theiler window; threshold "
                f"{fnn_threshold:g}: an embedding is reached when at most 1 % of neighbours are false")
    for name, measured, source in (
        ("true_x", float(truth["true_x_fnn"].sel(fnn_dim=3)), "true x"),
        ("generated_x", float(row["generated_x_fnn_dim3"]), f"x generated by {best}"),
    ):
        claims.append(claim_close(f"takens/{name}_fnn_dim3", f"false-nearest-neighbour fraction of the {source} at "
                                  "dimension 3", kind="theory" if name == "true_x" else "finding",
                                  measured=measured, expected=0.0, tolerance=fnn_threshold,
                                  note=f"{fnn_note} (threshold our declared choice); {embedding}"))
    claims.extend(dsr_claims(summary, truth))
    return claims


def dsr_claims(summary: xr.Dataset, truth: xr.Dataset) -> list[Claim]:
    """``dsr-metrics/<arch>_<metric>_beats_linear``: each architecture's best network against the
    closed-loop AR baseline, with the floor of two independent true trajectories in the note."""
    settings = {"d_stsp": f"{truth.attrs['n_bins']} bins per dimension on delay vectors",
                "d_h": f"Gaussian smoothing sigma = {truth.attrs['sigma']:g} frequency bins"}
    claims = []
    for label in summary["model"].values[summary["best_of_arch"].values]:
        row = summary.sel(model=label)
        for metric in METRICS:
            measured = float(row[metric])
            baseline, floor = float(truth[f"ar_{metric}"]), float(truth[f"floor_{metric}"])
            claims.append(claim_holds(
                f"dsr-metrics/{row['arch'].item()}_{metric}_beats_linear",
                f"{metric.upper()} of the best {row['arch'].item()} below the AR({truth.attrs['ar_order']}) "
                "baseline's",
                kind="finding", criterion="<", measured=measured, expected=baseline,
                unit="nat" if metric == "d_stsp" else "1", figure="lorenz_dsr",
                passed=bool(np.isfinite(measured) and measured < baseline),
                note=f"{_describe(summary, str(label))}; one network, no interval; the AR baseline runs without "
                     f"noise and decays to its mean, a null that cannot win; floor (two true trajectory sets) "
                     f"{floor:.4g}, distance to floor {measured - floor:.4g}; {settings[metric]}"))
    return claims
