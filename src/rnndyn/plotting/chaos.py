"""Figures of the chaos stage: λ1 and D_KY against g, spectra against i/N, BPTT norm against lag."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from rnndyn.plotting.theme import set_theme

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def _size_colors(sizes: np.ndarray) -> dict[int, tuple]:
    cmap = plt.get_cmap("viridis")
    return {int(n): cmap(i / max(len(sizes) - 1, 1) * 0.85) for i, n in enumerate(sizes)}


def lambda1_figure(summary: xr.Dataset) -> plt.Figure:
    """λ1 (mean ± spread over replicates) and D_KY / N against g, per N; one column per drive."""
    set_theme()
    drives = summary["drive"].values
    # 4.5 in a column: two drives fit the report's ~900 px at full size (8 pt stays 8 pt).
    fig, axes = plt.subplots(2, drives.size, figsize=(4.5 * drives.size, 6.6), squeeze=False, sharex=True)
    colors = _size_colors(summary["N"].values)
    g = summary["g"].values
    for col, drive in enumerate(drives):
        top, bottom = axes[0, col], axes[1, col]
        for n, color in colors.items():
            lam = summary["lambda1"].sel(N=n, drive=drive)
            mean, lo, hi = lam.mean("replicate"), lam.min("replicate"), lam.max("replicate")
            top.plot(g, mean, "o-", ms=3, color=color, label=f"N = {n}")
            top.fill_between(g, lo, hi, color=color, alpha=0.2, lw=0)
            g_star = summary["g_star"].sel(N=n, drive=drive).mean("replicate")
            top.axvline(float(g_star), color=color, lw=0.8, ls=":")
            frac = summary["kaplan_yorke_fraction"].sel(N=n, drive=drive)
            bottom.plot(summary["g_spectrum"], frac.mean("replicate"), "s-", ms=4, color=color, label=f"N = {n}")
        heuristic = summary["heuristic_rate"].sel(drive=drive).isel(N=-1).mean("replicate")
        top.plot(g, heuristic, color="0.5", lw=1, ls="--",
                 label=f"log(rho(W) E|f'|), N = {int(summary['N'][-1])}")
        top.axhline(0.0, color="0.3", lw=0.8)
        top.axvline(1.0, color="0.3", lw=0.8, ls="--")
        top.set(ylabel="largest Lyapunov exponent λ1 (1/step)", title=f"drive σ = {drive:g}")
        bottom.axhline(summary.attrs["dky_fraction_bound"], color="0.5", lw=0.8, ls="--", label="bound")
        bottom.set(xlabel="gain g", ylabel="Kaplan–Yorke dimension / N")
        top.legend(fontsize=8, loc="upper left")
        bottom.legend(fontsize=8, loc="upper left")
    fig.suptitle("Random tanh networks: λ1 changes sign near g = 1 (dotted: mean g*)", fontsize=11)
    fig.tight_layout()
    return fig


def spectra_figure(summary: xr.Dataset) -> plt.Figure:
    """Replicate-mean Lyapunov spectra against i/N: one panel per gain, one line per N (undriven first drive)."""
    set_theme()
    drive = summary["drive"].values[0]
    gains = summary["g_spectrum"].values
    n_cols = min(3, gains.size)  # at most three panels a row
    n_rows = -(-gains.size // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.0 * n_cols, 3.0 * n_rows), squeeze=False, sharey=True)
    for ax in axes.ravel()[gains.size:]:
        ax.set_visible(False)
    colors = _size_colors(summary["N"].values)
    x = summary["fraction"].values
    for ax, g in zip(axes.ravel(), gains):
        for n, color in colors.items():
            spec = summary["spectrum"].sel(N=n, g_spectrum=g, drive=drive).mean("replicate")
            ax.plot(x, spec, color=color, lw=1.5, label=f"N = {n}")
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.axvline(summary.attrs["invariance_max_fraction"], color="0.6", lw=0.8, ls=":")
        ax.set(xlabel="i / N", title=f"g = {g:g}")
    for row in axes:
        row[0].set_ylabel("Lyapunov exponent λ_i (1/step)")
    axes[0, 0].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"Lyapunov spectra against i/N (drive σ = {drive:g}; dotted: end of compared range)",
                 fontsize=11)
    fig.tight_layout()
    return fig


def gradient_figure(summary: xr.Dataset) -> plt.Figure:
    """Left: mean log BPTT norm against lag, coloured by g (largest N, first replicate, first drive).
    Right: fitted growth rate against λ1 for every network, with the identity line."""
    set_theme()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 4.2))
    drive = summary["drive"].values[0]
    sel = summary.sel(drive=drive).isel(N=-1, replicate=0)
    g = summary["g"].values
    cmap = plt.get_cmap("coolwarm")
    lags = summary["lag"].values
    for i, gain in enumerate(g):
        left.plot(lags, sel["mean_log_gradient_norm"].sel(g=gain), color=cmap(i / max(g.size - 1, 1)), lw=1.2)
    left.axvline(summary.attrs["min_lag"], color="0.5", lw=0.8, ls=":")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(g.min(), g.max()))
    fig.colorbar(sm, ax=left, label="gain g")
    left.set(xlabel="lag T − k (steps)", ylabel="mean log ||∂L/∂h_k||",
             title=f"BPTT gradient norm, N = {int(sel['N'])}, σ = {drive:g}")

    colors = _size_colors(summary["N"].values)
    markers = ["o", "^", "s", "D"]
    for n, color in colors.items():
        for j, d in enumerate(summary["drive"].values):
            s = summary.sel(N=n, drive=d)
            right.scatter(s["lambda1"].values.ravel(), s["gradient_rate"].values.ravel(), s=10, color=color,
                          marker=markers[j % len(markers)], alpha=0.7, label=f"N = {n}, σ = {d:g}")
    lo = float(min(summary["lambda1"].min(), summary["gradient_rate"].min()))
    hi = float(max(summary["lambda1"].max(), summary["gradient_rate"].max()))
    line = np.linspace(lo, hi, 2)
    right.plot(line, line, color="0.3", lw=1, label="identity")
    right.fill_between(line, line - np.maximum(0.05 * np.abs(line), 0.01),
                       line + np.maximum(0.05 * np.abs(line), 0.01), color="0.7", alpha=0.3, lw=0,
                       label="±max(5 %, 0.01)")
    right.set(xlabel="λ1 from QR (1/step)", ylabel="gradient growth rate (1/step)",
              title="Growth rate of the BPTT gradient = λ1")
    right.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def figures_job(job: Job) -> None:
    """Job ``chaos_figures``: λ1 and D_KY / N against g, spectra against i/N, BPTT norm against lag."""
    summary = job.read()
    job.figure("lambda1", lambda1_figure(summary))
    job.figure("spectra", spectra_figure(summary))
    job.figure("gradients", gradient_figure(summary))
