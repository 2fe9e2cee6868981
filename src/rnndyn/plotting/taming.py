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
    """Recall accuracy and cross-entropy / baseline against the delay L, one line per architecture
    (median over replicates, band: their min-max range); the longest solved delay per architecture
    (median, min-max bar, one dot per replicate)."""
    set_theme()
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13.5, 4.3))
    delays = summary["delay"].values
    colors = _colors(summary["arch"].values)
    chance = 1.0 / summary.attrs["n_symbols"]
    left.axhline(chance, color="0.6", lw=0.8, ls=":", zorder=1)
    left.axhline(summary.attrs["solve_accuracy"], color="0.3", lw=0.8, ls="--", zorder=1)
    middle.axhline(1.0, color="0.3", lw=0.8, ls="--", zorder=1)
    for arch, color in colors.items():
        acc = summary["recall_accuracy"].sel(arch=arch)
        ratio = (summary["cross_entropy"] / summary["baseline_cross_entropy"]).sel(arch=arch)
        for ax, values in ((left, acc), (middle, ratio)):
            ax.plot(delays, values.median("replicate"), "o-", color=color, label=arch, zorder=3)
            if summary.sizes["replicate"] > 1:
                ax.fill_between(delays, values.min("replicate"), values.max("replicate"), color=color, alpha=0.18,
                                lw=0, zorder=2)
    left.set(xscale="log", xlabel="delay L (steps)", ylabel="test accuracy on the recalled symbols",
             ylim=(0, 1.05), title="Recall accuracy")
    left.text(delays[0], summary.attrs["solve_accuracy"] - 0.02, f"solved ({summary.attrs['solve_accuracy']:g})",
              fontsize=8, va="top", color="0.3")
    # At the shortest delay every architecture is near 1, so the label hides no curve there.
    left.text(delays[0], chance - 0.02, f"chance (1/{summary.attrs['n_symbols']})", fontsize=8, va="top",
              color="0.45")
    k, n = summary.attrs["length"], summary.attrs["n_symbols"]
    middle.set(xscale="log", xlabel="delay L (steps)", ylabel=f"cross-entropy / ({k} ln {n} / (L + {2 * k}))",
               title="Cross-entropy over the memoryless baseline")
    for ax in (left, middle):
        ax.set_xticks(delays, [str(L) for L in delays])
        ax.minorticks_off()
    middle.legend(fontsize=8, loc="upper left")
    archs = list(colors)
    longest = summary["longest_solved_delay"]
    for i, arch in enumerate(archs):
        values = longest.sel(arch=arch).values.astype(float)
        median = float(np.median(values))
        right.errorbar(i, median, yerr=[[median - values.min()], [values.max() - median]], fmt="s", ms=8,
                       color=colors[arch], capsize=5, lw=1.5, zorder=3)
        jitter = np.linspace(-0.12, 0.12, values.size)
        right.scatter(i + jitter, values, s=14, color="0.2", zorder=4)
    right.set_xticks(range(len(archs)), archs)
    right.set_yticks([0, *delays])
    right.set(xlim=(-0.6, len(archs) - 0.4), ylim=(-2, delays.max() * 1.1), ylabel="longest delay solved (steps)",
              title="Longest solved delay per architecture")
    right.legend(handles=[Line2D([], [], ls="", marker="s", color="0.4", label="median, min-max bar"),
                          Line2D([], [], ls="", marker="o", ms=4, color="0.2", label="one replicate")],
                 fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def gradient_figure(summary: xr.Dataset) -> plt.Figure:
    """Left: mean log gradient norm against lag at initialisation per architecture. Middle: the
    uncoupled leaky unit's impulse response. Right: the decay of a perturbation of the driven,
    coupled leaky network against time in units of its theoretical e-fold time."""
    set_theme()
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13.5, 4.6))
    lags = summary["init_lag"].values
    for arch, color in _colors(summary["init_arch"].values).items():
        mean = summary["init_log_gradient_norm"].sel(init_arch=arch).mean("init_trial")
        label = {"vanilla_chaotic": f"vanilla, g = {summary.attrs['chaotic_g']:g}",
                 "orthogonal_linear": "orthogonal, linear"}.get(arch, arch)
        # The orthogonal linear network's line lies on zero: drawn dashed and on top, so both show.
        style = {"ls": "--", "lw": 2.0, "zorder": 4} if arch == "orthogonal_linear" else {"lw": 1.5}
        left.plot(lags, mean / np.log(10.0), color=color, label=label, **style)
    left.axhline(0.0, color="0.3", lw=0.8, zorder=1)
    left.set(xlabel="lag T − k (steps)", ylabel="log10 ||∂L/∂h_k|| (mean over trials)",
             title="BPTT gradient norm at initialisation", ylim=(-12, 12))
    left.legend(fontsize=8, ncol=2, loc="lower left")
    t = summary["t"].values
    alphas = summary["alpha"].values
    alpha_colors = [plt.get_cmap("viridis")(i / max(alphas.size - 1, 1) * 0.9) for i in range(alphas.size)]
    for alpha, color in zip(alphas, alpha_colors):
        middle.semilogy(t, summary["response"].sel(alpha=alpha), color=color,
                        label=f"α = {alpha:g}: τ = {float(summary['efold_time'].sel(alpha=alpha)):.2f} "
                              f"({float(summary['efold_time_exact'].sel(alpha=alpha)):.2f})")
    middle.axhline(np.exp(-1.0), color="0.5", lw=0.8, ls=":")
    middle.set(xlabel="steps after the impulse", ylabel="|h_t| / |h_0|", ylim=(1e-6, 1.5),
               title="Uncoupled leaky unit (g = 0)")
    middle.legend(fontsize=8, loc="upper right", title="measured τ (−1/ln(1−α))", title_fontsize=8)
    # From the start of the measurement window: the faster modes of the random initial direction are gone.
    start = int(summary.attrs["driven_n_transient"])
    for alpha, color in zip(alphas, alpha_colors):
        theory = float(summary["driven_efold_time_theory"].sel(alpha=alpha))
        uncoupled = float(summary["driven_efold_time_uncoupled"].sel(alpha=alpha))
        log_norm = summary["driven_log_norm"].sel(alpha=alpha).values[start:]
        scaled = np.arange(log_norm.size) / theory
        keep = scaled <= 6.0
        right.plot(scaled[keep], log_norm[keep] - log_norm[0], color=color, lw=1.5,
                   label=f"α = {alpha:g}: τ = {float(summary['driven_efold_time'].sel(alpha=alpha)):.1f} "
                         f"({theory:.1f}; {uncoupled:.1f})")
        right.plot([0, 6], [0, -6 * theory / uncoupled], color=color, lw=0.9, ls=":")
    right.plot([0, 6], [0, -6], color="0.1", lw=1.0, ls="--", zorder=5)
    right.set(xlim=(0, 6), ylim=(-8, 0.5), xlabel="(t − t0) / (−1/ln ρ(J))",
              ylabel="ln(|δ_t| / |δ_t0|)", title=f"Driven leaky network (g = {summary.attrs['driven_g']:g})")
    right.legend(fontsize=8, loc="upper right", title="measured τ (theory; uncoupled)", title_fontsize=8)
    fig.tight_layout()
    return fig


def lambda1_figure(summary: xr.Dataset) -> plt.Figure:
    """λ1 of each trained network (zero input) against delay; filled markers where the network solved its delay."""
    set_theme()
    fig, ax = plt.subplots(figsize=(6.5, 4.3))
    delays = summary["delay"].values
    archs = summary["arch"].values
    # Side by side, in log-delay, so that architectures at one delay do not overlap.
    offsets = np.exp(np.linspace(-0.12, 0.12, archs.size))
    for (arch, color), offset in zip(_colors(archs).items(), offsets):
        lam = summary["lambda1"].sel(arch=arch)
        for replicate in summary["replicate"].values:
            values = lam.sel(replicate=replicate).values
            solved = summary["solved"].sel(arch=arch, replicate=replicate).values.astype(bool)
            ax.scatter(delays[solved] * offset, values[solved], color=color, s=28, zorder=3)
            ax.scatter(delays[~solved] * offset, values[~solved], facecolors="none", edgecolors=color, s=28,
                       zorder=3)
        ax.plot(delays * offset, lam.median("replicate"), color=color, lw=1, label=arch)
    ax.axhline(0.0, color="0.3", lw=0.8)
    # The edge-of-chaos claims' band: |lambda1| <= 1/L.
    band = np.geomspace(delays.min() * 0.85, delays.max() * 1.15, 50)
    ax.fill_between(band, -1.0 / band, 1.0 / band, color="0.85", zorder=0, label="|λ1| ≤ 1/L")
    ax.set_xscale("log")
    ax.set_xticks(delays, [str(L) for L in delays])
    ax.minorticks_off()
    # symlog keeps the cluster near 0 readable beside strongly negative exponents.
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set(xlabel="copy-task delay L (steps)", ylabel="λ1 of the trained network (1/step, symlog)",
           title="Trained networks, autonomous (zero input)")
    handles, _ = ax.get_legend_handles_labels()
    handles += [Line2D([], [], ls="", marker="o", color="0.3", label="solved"),
                Line2D([], [], ls="", marker="o", mfc="none", mec="0.3", label="not solved")]
    ax.legend(handles=handles, fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig
