"""Figures of the taming stage: copy-task scores against delay, gradient norm against lag, trained λ1."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.lines import Line2D

from rnndyn.plotting.theme import set_theme

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def figures_job(job: Job) -> None:
    """Rule ``taming_figures``: the three figures of the ``taming_claims`` summary."""
    summary = job.read()
    job.figure("copy", copy_figure(summary))
    job.figure("gradients", gradient_figure(summary))
    job.figure("lambda1", lambda1_figure(summary))


def _colors(names) -> dict[str, tuple]:
    palette = plt.get_cmap("tab10")
    return {str(name): palette(i % 10) for i, name in enumerate(names)}


def copy_figure(summary: xr.Dataset) -> plt.Figure:
    """Recall accuracy and cross-entropy / baseline against the delay L, one line per architecture."""
    set_theme()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 4.0))
    delays = summary["delay"].values
    for arch, color in _colors(summary["arch"].values).items():
        acc = summary["recall_accuracy"].sel(arch=arch)
        ratio = (summary["cross_entropy"] / summary["baseline_cross_entropy"]).sel(arch=arch)
        left.plot(delays, acc.mean("replicate"), "o-", color=color, label=arch)
        right.plot(delays, ratio.mean("replicate"), "o-", color=color, label=arch)
        if summary.sizes["replicate"] > 1:
            left.fill_between(delays, acc.min("replicate"), acc.max("replicate"), color=color, alpha=0.15, lw=0)
    n_symbols_chance = 1.0 / 8
    left.axhline(summary.attrs["solve_accuracy"], color="0.3", lw=0.8, ls="--", label="solved")
    left.axhline(n_symbols_chance, color="0.6", lw=0.8, ls=":", label="chance (1/8)")
    left.set(xlabel="delay L (steps)", ylabel="accuracy on the recalled symbols", ylim=(0, 1.02),
             title="Copy task: recall accuracy")
    right.axhline(1.0, color="0.3", lw=0.8, ls="--", label="memoryless baseline")
    right.set(xlabel="delay L (steps)", ylabel="cross-entropy / (10 ln 8 / (L + 20))",
              title="Cross-entropy against the baseline")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def gradient_figure(summary: xr.Dataset) -> plt.Figure:
    """Left: mean log gradient norm against lag at initialisation per architecture. Right: the leaky
    unit's impulse response with its e-fold time against −1/ln(1 − α)."""
    set_theme()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 4.6), gridspec_kw={"width_ratios": [1.3, 1.0]})
    lags = summary["init_lag"].values
    for arch, color in _colors(summary["init_arch"].values).items():
        mean = summary["init_log_gradient_norm"].sel(init_arch=arch).mean("init_trial")
        label = {"vanilla_chaotic": f"vanilla, g = {summary.attrs['chaotic_g']:g}",
                 "orthogonal_linear": "orthogonal, linear"}.get(arch, arch)
        left.plot(lags, mean / np.log(10.0), color=color, lw=1.5, label=label)
    left.axhline(0.0, color="0.3", lw=0.8, zorder=1)  # under the orthogonal linear network's line, which lies on it
    left.set(xlabel="lag T − k (steps)", ylabel="log10 ||∂L/∂h_k|| (mean over trials)",
             title="BPTT gradient norm at initialisation", ylim=(-12, 12))
    left.legend(fontsize=8, ncol=2)
    t = summary["t"].values
    for i, alpha in enumerate(summary["alpha"].values):
        color = plt.get_cmap("viridis")(i / max(summary.sizes["alpha"] - 1, 1) * 0.9)
        right.semilogy(t, summary["response"].sel(alpha=alpha), color=color,
                       label=f"α = {alpha:g}: τ = {float(summary['efold_time'].sel(alpha=alpha)):.2f} "
                             f"(−1/ln(1−α) = {float(summary['efold_time_exact'].sel(alpha=alpha)):.2f})")
    right.axhline(np.exp(-1.0), color="0.5", lw=0.8, ls=":")
    right.set(xlabel="steps after the impulse", ylabel="|h_t| / |h_0|", ylim=(1e-6, 1.5),
              title="Leaky unit: impulse response")
    right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
    fig.tight_layout()
    return fig


def lambda1_figure(summary: xr.Dataset) -> plt.Figure:
    """λ1 of each trained network (zero input) against delay; filled markers where the delay is solved."""
    set_theme()
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    delays = summary["delay"].values
    archs = summary["arch"].values
    # Side by side within 3 % of the delay spacing, so that architectures at one delay do not overlap.
    offsets = np.linspace(-0.03, 0.03, archs.size) * (np.min(np.diff(delays)) if delays.size > 1 else 10.0)
    for (arch, color), offset in zip(_colors(archs).items(), offsets):
        lam = summary["lambda1"].sel(arch=arch)
        solved = summary["solved"].sel(arch=arch).values.astype(bool)
        for replicate in summary["replicate"].values:
            values = lam.sel(replicate=replicate).values
            ax.scatter(delays[solved] + offset, values[solved], color=color, s=28, zorder=3)
            ax.scatter(delays[~solved] + offset, values[~solved], facecolors="none", edgecolors=color, s=28, zorder=3)
        ax.plot(delays + offset, lam.mean("replicate"), color=color, lw=1, label=arch)
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set(xlabel="copy-task delay L (steps)", ylabel="λ1 of the trained network (1/step)",
           title="Trained networks, autonomous: filled = delay solved")
    handles, _ = ax.get_legend_handles_labels()
    handles += [Line2D([], [], ls="", marker="o", color="0.3", label="delay solved"),
                Line2D([], [], ls="", marker="o", mfc="none", mec="0.3", label="not solved")]
    ax.legend(handles=handles, fontsize=8)
    fig.tight_layout()
    return fig
