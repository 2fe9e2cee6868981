"""Figures of the Lorenz stage: attractors, persistence, Lyapunov spectra, forecasts, training."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import xarray as xr

from rnndyn.plotting.theme import DATA_COLOR, STABLE_COLOR, UNSTABLE_COLOR, set_theme
from rnndyn.stages.lorenz import PUBLISHED_GRU_40, network_label
from rnndyn.systems.lorenz import LYAPUNOV_SPECTRUM

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def figures_job(job: Job) -> None:
    """Rule ``lorenz_figures``: every figure of the stage, the best network's from its own analysis."""
    reference, truth, summary = job.read("reference"), job.read("truth"), job.read("summary")
    best = best_label(summary)
    analysis = next(a for a in job.read_all("analyses") if network_label(a.attrs["identity"]) == best)
    models = {network_label(m.attrs["identity"]): m for m in job.read_all("models")}
    job.figure("attractors", attractor_triptych(truth, analysis, best))
    job.figure("persistence", persistence_figure(truth, analysis, best))
    job.figure("spectra", spectra_figure(summary, reference))
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
    """Leading three closed-loop exponents of every network (points) against Lorenz's."""
    set_theme()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    reference_mean = reference["exponents"].mean("trajectory").values
    archs = list(dict.fromkeys(summary["arch"].values))
    for k, ax in enumerate(axes):
        values = summary["lyapunov"].isel(exponent=k).values
        frame = {"architecture": summary["arch"].values, "exponent": values,
                 "hidden size": [f"hidden {h}" for h in summary["hidden"].values]}
        sns.stripplot(data=frame, x="architecture", y="exponent", hue="hidden size", order=archs, ax=ax, size=6,
                      jitter=0.15)
        best = summary["best"].values
        ax.scatter([archs.index(a) for a in summary["arch"].values[best]], values[best], s=140,
                   facecolors="none", edgecolors="k", label="best")
        ax.axhline(LYAPUNOV_SPECTRUM[k], color=DATA_COLOR, lw=1, label="Lorenz (Sprott)")
        ax.axhline(reference_mean[k], color=STABLE_COLOR, lw=1, ls="--", label="engine")
        ax.axhline(PUBLISHED_GRU_40[k], color=UNSTABLE_COLOR, lw=1, ls=":", label="published GRU-40")
        ax.set(title=f"λ{k + 1}", ylabel="1/time" if k == 0 else "")
        if k:
            ax.get_legend().remove()
    axes[0].legend(fontsize=7)
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
    axes[0].set(title="training loss", xlabel="epoch", ylabel="MSE (standardised x)", yscale="log")
    axes[1].set(title="validation loss", xlabel="epoch", yscale="log")
    axes[0].legend(fontsize=7)
    return fig


def dsr_figure(summary: xr.Dataset, truth: xr.Dataset) -> plt.Figure:
    """D_stsp and D_H of every network against the floor and the AR baseline."""
    set_theme()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    x = np.arange(summary.sizes["model"])
    for ax, metric, title in zip(axes, ("d_stsp", "d_h"), (f"D_stsp ({truth.attrs['n_bins']} bins/dim)",
                                                            f"D_H (σ = {truth.attrs['sigma']:g} bins)")):
        ax.scatter(x, summary[metric].values, color=STABLE_COLOR, zorder=3)
        ax.axhline(float(truth[f"floor_{metric}"]), color=DATA_COLOR, ls="--", label="floor (true vs true)")
        ax.axhline(float(truth[f"ar_{metric}"]), color=UNSTABLE_COLOR, ls=":", label="AR baseline")
        ax.set_xticks(x, summary["model"].values, rotation=30)
        ax.set(title=title, yscale="log", xlim=(-0.5, x.size - 0.5))
    axes[0].legend(fontsize=7)
    return fig


def best_label(summary: xr.Dataset) -> str:
    """The label of the network the claims are about."""
    return str(summary["model"].values[summary["best"].values][0])
