"""Figures of the Lorenz stage: attractors, persistence, Lyapunov spectra, forecasts, training."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import xarray as xr

from rnndyn.plotting.theme import DATA_COLOR, STABLE_COLOR, UNSTABLE_COLOR, set_theme
from rnndyn.stages.lorenz import PUBLISHED_GRU_40, PUBLISHED_LSTM, groups, network_label
from rnndyn.systems.lorenz import LYAPUNOV_SPECTRUM

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def figures_job(job: Job) -> None:
    """Rule ``lorenz_figures``: every figure of the stage; the attractor and persistence figures show
    the best network of the scalar setting (of the first setting when there is no scalar one)."""
    reference, truth, summary = job.read("reference"), job.read("truth"), job.read("summary")
    best = best_label(summary, "scalar")
    analyses = {network_label(a.attrs["identity"]): a for a in job.read_all("analyses")}
    analysis = analyses[best]
    models = {network_label(m.attrs["identity"]): m for m in job.read_all("models")}
    job.figure("attractors", attractor_triptych(truth, analysis, best))
    job.figure("persistence", persistence_figure(truth, analysis, best))
    job.figure("spectra", spectra_figure(summary, reference))
    job.figure("intrinsic", intrinsic_figure(summary))
    bests = {best_label(summary, setting) for setting in summary["setting"].values}
    job.figure("dimension", dimension_figure(truth, reference, summary,
                                             {label: analyses[label] for label in sorted(bests)}))
    job.figure("sweep", sweep_figure(truth))
    job.figure("fnn", fnn_figure(truth, summary, analyses))
    job.figure("convergence", convergence_figure(reference))
    job.figure("vpt", vpt_figure(summary, truth))
    job.figure("training", training_figure(models))
    job.figure("dsr", dsr_figure(summary, truth))


def attractor_triptych(truth: xr.Dataset, analysis: xr.Dataset, label: str) -> plt.Figure:
    """True (x, y, z), the delay embedding of x and the network's closed-loop state (first PCs)."""
    set_theme()
    fig = plt.figure(figsize=(12, 4))
    lag = int(truth["delay_lag"])
    panels = (
        (truth["true_sample"].values, "true attractor", ("x", "y", "z")),
        (truth["delay_sample"].values, f"delay embedding of x (lag {lag} steps)",
         ("x(t)", f"x(t+{lag})", f"x(t+{2 * lag})")),
        (analysis["hidden_sample"].values, f"closed-loop state of {label}", ("PC 1", "PC 2", "PC 3")),
    )
    for k, (points, title, names) in enumerate(panels):
        ax = fig.add_subplot(1, 3, k + 1, projection="3d")
        points = np.pad(points, ((0, 0), (0, max(0, 3 - points.shape[1]))))
        ax.plot(points[:, 0], points[:, 1], points[:, 2], lw=0.4, color=(DATA_COLOR, STABLE_COLOR, UNSTABLE_COLOR)[k])
        ax.set(title=title, xlabel=names[0], ylabel=names[1], zlabel=names[2])
        ax.tick_params(labelsize=6)
    return fig


def persistence_figure(truth: xr.Dataset, analysis: xr.Dataset, label: str) -> plt.Figure:
    """H0 and H1 persistence diagrams of the three normalised clouds side by side."""
    set_theme()
    clouds = ((truth, "true", "true (x, y, z)"), (truth, "delay", "delay embedding of x"),
              (analysis, "hidden", f"closed-loop state, {label}"))
    fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharex=True, sharey=True)
    top = max(float(np.nanmax(ds[f"{name}_h{d}"].values[:, 1])) for ds, name, _ in clouds for d in (0, 1)
              if ds.sizes[f"{name}_h{d}_bar"])
    for ax, (ds, name, title) in zip(axes, clouds):
        for dim, color in ((0, DATA_COLOR), (1, UNSTABLE_COLOR)):
            bars = ds[f"{name}_h{dim}"].values
            ax.scatter(bars[:, 0], bars[:, 1], s=8, color=color, alpha=0.7, label=f"H{dim}")
        ax.plot([0, top], [0, top], color="0.5", lw=0.8)
        ax.set(title=f"{title}\n{int(ds[f'{name}_n_dominant_h1'])} dominant H1 bars", xlabel="birth")
    axes[0].set_ylabel("death")
    axes[0].legend(loc="lower right")
    return fig


def spectra_figure(summary: xr.Dataset, reference: xr.Dataset) -> plt.Figure:
    """Leading three closed-loop exponents of every network (points; median over replicates as a
    bar) against Lorenz's, one row of panels per setting; the published full-state networks
    (Vlachas et al. GRU-40, Özalp & Magri LSTM-30) marked on every panel."""
    set_theme()
    settings = list(dict.fromkeys(summary["setting"].values))
    fig, axes = plt.subplots(len(settings), 3, figsize=(12, 3.8 * len(settings)), squeeze=False)
    reference_mean = reference["exponents"].mean("trajectory").values
    for row, setting in zip(axes, settings):
        part = summary.isel(model=summary["setting"].values == setting)
        groups = [f"{a} h{h}" for a, h in zip(part["arch"].values, part["hidden"].values)]
        order = list(dict.fromkeys(groups))
        for k, ax in enumerate(row):
            values = part["lyapunov"].isel(exponent=k).values
            frame = {"network": groups, "exponent": values}
            sns.stripplot(data=frame, x="network", y="exponent", order=order, ax=ax, size=6, jitter=0.15,
                          color=STABLE_COLOR, label="replicate")
            for i, group in enumerate(order):
                median = np.nanmedian(values[np.asarray(groups) == group])
                ax.plot([i - 0.3, i + 0.3], [median, median], color="k", lw=2, label="median" if i == 0 else None)
            best = part["best"].values
            ax.scatter([order.index(g) for g in np.asarray(groups)[best]], values[best], s=140,
                       facecolors="none", edgecolors="k", label="best by validation")
            ax.axhline(LYAPUNOV_SPECTRUM[k], color=DATA_COLOR, lw=1, label="Lorenz (Sprott)")
            ax.axhline(reference_mean[k], color=STABLE_COLOR, lw=1, ls="--", label="engine")
            ax.axhline(PUBLISHED_GRU_40[k], color=UNSTABLE_COLOR, lw=1, ls=":", label="published GRU-40 (x, y, z)")
            ax.axhline(PUBLISHED_LSTM[k], color="0.4", lw=1, ls="-.", label="published LSTM-30 (x, y, z)")
            ax.set(title=f"{setting} setting: λ{k + 1}", ylabel="1/time" if k == 0 else "", xlabel="")
            if ax.get_legend() is not None:
                ax.get_legend().remove()
        handles, labels = row[0].get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        row[0].legend(unique.values(), unique.keys(), fontsize=7)
    return fig


def intrinsic_figure(summary: xr.Dataset) -> plt.Figure:
    """λ_i against i for every network, closed loop and conditional, the intrinsic exponents marked;
    one panel per setting, architecture and hidden size (three a row), Lorenz's three as lines."""
    set_theme()
    keys = list(dict.fromkeys(zip(summary["setting"].values, summary["arch"].values, summary["hidden"].values)))
    columns = min(3, len(keys))
    rows = -(-len(keys) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.8 * rows), squeeze=False, sharey=True,
                             layout="constrained")
    for ax, (setting, arch, hidden) in zip(axes.flat, keys):
        members = np.flatnonzero((summary["setting"].values == setting) & (summary["arch"].values == arch)
                                 & (summary["hidden"].values == hidden))
        for offset, m in enumerate(members):
            closed = summary["lyapunov"].values[m]
            index = np.arange(1, closed.size + 1) + 0.12 * (offset - (members.size - 1) / 2)
            mask = summary["intrinsic"].values[m] & np.isfinite(closed)
            ax.scatter(index[mask], closed[mask], color=DATA_COLOR, s=22, zorder=3,
                       label="closed loop, intrinsic" if offset == 0 else None)
            ax.scatter(index[~mask], closed[~mask], color=STABLE_COLOR, s=10, zorder=2,
                       label="closed loop, spurious" if offset == 0 else None)
            ax.scatter(index, summary["conditional"].values[m], marker="x", color=UNSTABLE_COLOR, s=14, lw=0.8,
                       zorder=2, label="conditional (driven)" if offset == 0 else None)
        for k, value in enumerate(LYAPUNOV_SPECTRUM):
            ax.axhline(value, color="k", lw=0.8, ls="--", label="Lorenz λ1, λ2, λ3" if k == 0 else None)
        ax.set_yscale("symlog", linthresh=1.0)
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set(title=f"{setting}: {arch}, hidden {hidden}", xlabel="exponent index i")
    for ax in axes.flat[len(keys):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("λ_i (1/time, symlog)")
    axes.flat[0].legend(fontsize=8)
    return fig


def dimension_figure(truth: xr.Dataset, reference: xr.Dataset, summary: xr.Dataset,
                     analyses: dict[str, xr.Dataset]) -> plt.Figure:
    """Left: local slope d log C / d log r against r for the true and delay clouds and the best
    networks' hidden clouds, delay clouds of their x and, in the full setting, generated (x, y, z)
    clouds, the plateau the D2 rule chose drawn
    thick. Right: per cloud, the three estimates of its dimension side by side: our D2 (bootstrap
    interval), nolds' D2 of its x (range over series) and the Kaplan-Yorke dimension (Lorenz's, or
    that of the network's intrinsic exponents)."""
    set_theme()
    curves = [("true (x, y, z)", truth, "true"), ("delay of x", truth, "delay")]
    for label, analysis in analyses.items():
        curves.append((f"{label}: hidden", analysis, "hidden"))
        curves.append((f"{label}: delay of its x", analysis, "generated_delay"))
        if "generated_d2_local_slope" in analysis:
            curves.append((f"{label}: generated (x, y, z)", analysis, "generated"))
    n_rows = 2 + summary.sizes["model"]
    fig, (ax, right) = plt.subplots(1, 2, figsize=(13, max(4.6, 0.32 * n_rows + 1.5)), layout="constrained",
                                    gridspec_kw={"width_ratios": [1.2, 1]})
    colors = sns.color_palette("colorblind", len(curves))
    for color, (label, ds, name) in zip(colors, curves):
        if f"{name}_d2_local_slope" not in ds:
            continue
        radius, slope = ds[f"{name}_d2_radius"].values, ds[f"{name}_d2_local_slope"].values
        plateau = ds[f"{name}_d2_in_fit"].values.astype(bool)
        d2, low, high = (float(ds[f"{name}_d2{suffix}"]) for suffix in ("", "_low", "_high"))
        ax.plot(radius, slope, color=color, lw=1, label=f"{label}: D2 {d2:.2f} [{low:.2f}, {high:.2f}]")
        ax.plot(np.where(plateau, radius, np.nan), np.where(plateau, slope, np.nan), color=color, lw=3)
    ax.axhline(2.05, color="k", ls="--", lw=0.8, label="Lorenz D2 2.05 (Grassberger & Procaccia 1983)")
    ax.set(xscale="log", xlabel="r (normalised distance)", ylabel="local slope d log C / d log r", ylim=(0, 4),
           title="local slope of the correlation sum")
    ax.legend(fontsize=8)
    estimates_panel(right, truth, reference, summary)
    return fig


def estimates_panel(ax: plt.Axes, truth: xr.Dataset, reference: xr.Dataset, summary: xr.Dataset) -> None:
    """One row per cloud: our D2 of the state (or true) cloud and of the delay cloud of x with their
    bootstrap intervals, nolds' D2 of x with its range, the Kaplan-Yorke dimension."""
    def interval(row: float, ds: xr.Dataset, name: str, color, marker: str, label: str, shift: float) -> None:
        value, low, high = (float(ds[f"{name}{suffix}"]) for suffix in ("", "_low", "_high"))
        ax.errorbar(value, row + shift, xerr=[[max(value - low, 0)], [max(high - value, 0)]], fmt=marker,
                    color=color, ms=5, lw=1, capsize=2, label=label)

    rows = [("true (x, y, z) / delay of x", truth, "true_d2", "delay_d2", "true_x_d2_nolds",
             float(reference["kaplan_yorke"]))]
    rows += [(str(model), summary.sel(model=model), "hidden_d2", "generated_delay_d2", "generated_x_d2_nolds",
              float(summary["kaplan_yorke_intrinsic"].sel(model=model))) for model in summary["model"].values]
    palette = sns.color_palette("colorblind", 4)
    for k, (label, ds, state, delay, nolds, ky) in enumerate(rows):
        first = k == 0
        interval(k, ds, state, palette[0], "o", "our D2: state cloud (true: (x, y, z))" if first else None, -0.2)
        interval(k, ds, delay, palette[1], "s", "our D2: delay cloud of x" if first else None, 0.0)
        interval(k, ds, nolds, palette[2], "^", "nolds D2 of x (range over series)" if first else None, 0.2)
        ax.scatter(ky, k, marker="D", color=palette[3], s=22, zorder=3,
                   label="D_KY (true: Lorenz; networks: intrinsic exponents)" if first else None)
    ax.axvline(2.05, color="k", ls="--", lw=0.8)
    ax.set_yticks(range(len(rows)), [row[0] for row in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel="dimension", xlim=(0, 4), title="three estimates per cloud")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2)


def sweep_figure(truth: xr.Dataset) -> plt.Figure:
    """Dominant H1 bars of the true and delay clouds over the grid of density filters (kept fraction)
    and dominance fractions; the configured pair boxed."""
    set_theme()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    keeps, fractions = truth["sweep_keep"].values, truth["sweep_fraction"].values
    for ax, name, title in zip(axes, ("true", "delay"), ("true (x, y, z) cloud", "delay cloud of x")):
        counts = truth[f"{name}_sweep_n_dominant_h1"].values
        sns.heatmap(counts, ax=ax, annot=True, fmt="d", cbar=False, cmap="vlag", center=2, vmin=0, vmax=4,
                    xticklabels=[f"{f:g}" for f in fractions], yticklabels=[f"{k:g}" for k in keeps],
                    annot_kws={"fontsize": 9})
        ax.set(title=f"{title}: dominant H1 bars (Lorenz: 2)", xlabel="dominance fraction",
               ylabel="density filter: fraction kept")
    return fig


def fnn_figure(truth: xr.Dataset, summary: xr.Dataset, analyses: dict[str, xr.Dataset]) -> plt.Figure:
    """False-nearest-neighbour fraction against embedding dimension (Kennel et al. 1992): the true x
    and the x generated by every network, one panel per setting, one colour per replicate group (the
    claims' groups), the claims' threshold and dimension marked."""
    set_theme()
    settings = list(dict.fromkeys(summary["setting"].values))
    by_setting = {setting: groups(summary, setting) for setting in settings}
    names = list(dict.fromkeys(name for members in by_setting.values() for name in members))
    colors = dict(zip(names, sns.color_palette("colorblind", len(names))))
    fig, axes = plt.subplots(1, len(settings), figsize=(4.6 * len(settings), 3.8), squeeze=False, sharey=True,
                             layout="constrained")
    dims = truth["fnn_dim"].values
    threshold = float(truth.attrs["fnn_threshold"])
    for ax, setting in zip(axes[0], settings):
        ax.plot(dims, truth["true_x_fnn"].values, "o-", color="k", lw=2, ms=4, label="true x")
        for name, members in by_setting[setting].items():
            for k, i in enumerate(members):
                fnn = analyses[str(summary["model"].values[i])]["generated_x_fnn"].values
                ax.plot(dims, fnn, ".-", color=colors[name], lw=1, alpha=0.8,
                        label=f"{name}: generated x ({members.size} replicates)" if k == 0 else None)
        ax.axhline(threshold, color="0.4", ls="--", lw=0.8, label=f"threshold {threshold:g}")
        ax.axvline(3, color="0.6", ls=":", lw=0.8)
        # symlog: the fractions span 1 to exactly 0, and the threshold sits near the bottom.
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set(xlabel="embedding dimension", xticks=dims, ylim=(0, 1.5),
               title=f"setting {setting}: trained on {'x alone' if setting == 'scalar' else '(x, y, z)'}")
    axes[0, 0].set_ylabel("false-nearest-neighbour fraction")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    return fig


def convergence_figure(reference: xr.Dataset) -> plt.Figure:
    """Running estimate of the engine's spectrum (mean ± standard error over trajectories)."""
    set_theme()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    time = reference["time"].values
    for k, ax in enumerate(axes):
        mean = reference["running_mean"].isel(exponent=k).values
        se = reference["running_se"].isel(exponent=k).values
        ax.plot(time, mean, color=STABLE_COLOR)
        ax.fill_between(time, mean - se, mean + se, color=STABLE_COLOR, alpha=0.3)
        ax.axhline(LYAPUNOV_SPECTRUM[k], color=DATA_COLOR, lw=1, ls="--")
        ax.set(title=f"λ{k + 1}", xlabel="averaging time per trajectory", xscale="log")
    axes[0].set_ylabel("running estimate (1/time)")
    return fig


def vpt_figure(summary: xr.Dataset, truth: xr.Dataset) -> plt.Figure:
    """Valid prediction times on the test split: every network and the AR baseline."""
    set_theme()
    labels = list(summary["model"].values) + ["AR baseline"]
    values = [summary["vpt_test"].sel(model=m).values for m in summary["model"].values] + [truth["ar_vpt"].values]
    frame = {"model": np.repeat(labels, [v.size for v in values]), "vpt": np.concatenate(values)}
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(labels)), 4))
    sns.boxplot(data=frame, x="model", y="vpt", ax=ax, color="0.85", fliersize=0)
    sns.stripplot(data=frame, x="model", y="vpt", ax=ax, size=2.5, color=STABLE_COLOR, alpha=0.6)
    ax.set(ylabel="valid prediction time (Lyapunov times)", xlabel="")
    ax.tick_params(axis="x", rotation=30)
    return fig


def training_figure(models: dict[str, xr.Dataset]) -> plt.Figure:
    """Training and validation loss per epoch of every network (phase changes dotted)."""
    set_theme()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    palette = sns.color_palette(n_colors=len(models))
    for color, (label, ds) in zip(palette, models.items()):
        for ax, name in zip(axes, ("loss", "val_loss")):
            ax.plot(ds["epoch"], ds[name], color=color, label=f"{label} ({ds.attrs['status']})")
            for edge in ds["epoch"].values[1:][np.diff(ds["phase"].values) != 0]:
                ax.axvline(edge - 0.5, color=color, ls=":", lw=0.8)
    axes[0].set(title="training loss", xlabel="epoch", ylabel="MSE (standardised observations)", yscale="log")
    axes[1].set(title="validation loss", xlabel="epoch", yscale="log")
    axes[0].legend(fontsize=7)
    return fig


def dsr_figure(summary: xr.Dataset, truth: xr.Dataset) -> plt.Figure:
    """D_stsp and D_H of every network against the floor and the linear-Gaussian nulls."""
    set_theme()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    x = np.arange(summary.sizes["model"])
    for ax, metric, title in zip(axes, ("d_stsp", "d_h"), (f"D_stsp ({truth.attrs['n_bins']} bins/dim)",
                                                            f"D_H (σ = {truth.attrs['sigma']:g} bins)")):
        ax.scatter(x, summary[metric].values, color=STABLE_COLOR, zorder=3)
        ax.axhline(float(truth[f"floor_{metric}"]), color=DATA_COLOR, ls="--", label="floor (true vs true)")
        ax.axhline(float(truth[f"null_{metric}"]), color=UNSTABLE_COLOR, ls=":",
                   label=f"AR({truth.attrs['ar_order']}) driven by its noise")
        ax.axhline(float(truth[f"aaft_{metric}"]), color=UNSTABLE_COLOR, ls="-.", label="AAFT surrogates")
        ax.set_xticks(x, summary["model"].values, rotation=30)
        ax.set(title=title, yscale="log", xlim=(-0.5, x.size - 0.5))
    axes[0].legend(fontsize=7)
    return fig


def best_label(summary: xr.Dataset, setting: str | None = None) -> str:
    """The label of the best network of ``setting`` (of the first setting present when it has none)."""
    settings = summary["setting"].values
    if setting not in settings:
        setting = settings[0]
    return str(summary["model"].values[summary["best"].values & (settings == setting)][0])
