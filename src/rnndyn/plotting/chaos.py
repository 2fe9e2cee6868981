"""Figures of the chaos stage: λ1 and D_KY against g, the onset of chaos against N^(−1/ν), spectra
against i/N, BPTT norm against lag."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.colors import TwoSlopeNorm

from rnndyn.analysis.mean_field import lambda1_mean_field
from rnndyn.analysis.statistics import mean_interval
from rnndyn.plotting.theme import set_theme

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def _size_colors(sizes: np.ndarray) -> dict[int, tuple]:
    cmap = plt.get_cmap("viridis")
    return {int(n): cmap(i / max(len(sizes) - 1, 1) * 0.85) for i, n in enumerate(sizes)}


def lambda1_figure(summary: xr.Dataset) -> plt.Figure:
    """λ1 (mean and range over replicates) and D_KY / N (mean ± 95 % CI) against g, per N; one column per drive."""
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
            if drive == 0:  # the circular-law edge: where the undriven origin loses stability
                top.axvline(float((1 / summary["rho_J"].sel(N=n)).mean()), color=color, lw=0.8, ls=":")
            frac = summary["kaplan_yorke_fraction"].sel(N=n, drive=drive)
            half = [mean_interval(frac.isel(g_spectrum=j).values)[1] for j in range(frac.sizes["g_spectrum"])]
            bottom.errorbar(summary["g_spectrum"], frac.mean("replicate"), yerr=half, fmt="s-", ms=4, capsize=3,
                            color=color, label=f"N = {n}")
        heuristic = summary["heuristic_rate"].sel(drive=drive).isel(N=-1).mean("replicate")
        top.plot(g, heuristic, color="0.5", lw=1, ls="--",
                 label=f"log(rho(W) E|f'|), N = {int(summary['N'][-1])}")
        top.axhline(0.0, color="0.3", lw=0.8)
        top.axvline(1.0, color="0.3", lw=0.8, ls="--")
        top.set(ylabel="largest Lyapunov exponent λ1 (1/step)", title=f"drive σ = {drive:g}")
        bottom.axhline(summary.attrs["dky_fraction_bound"], color="0.5", lw=0.8, ls="--",
                       label=f"claim ≤ {summary.attrs['dky_fraction_bound']:.2g} (our choice)")
        bottom.set(xlabel="gain g", ylabel="Kaplan–Yorke dimension / N")
        top.legend(fontsize=8, loc="upper left")
        bottom.legend(fontsize=8, loc="upper left")
    fig.suptitle("Random tanh networks: λ1 changes sign near g = 1 (dotted: mean 1/ρ(J))", fontsize=11)
    fig.tight_layout()
    return fig


def onset_figure(onset: xr.Dataset) -> plt.Figure:
    """Left: replicate-mean λ1 against g per N with the mean-field curve (undriven). Middle and right,
    one per drive: g_chaos(N) against N^(−1/ν) with 95 % intervals, the fit, the extrapolated
    interval at N → ∞ and the mean-field onset."""
    set_theme()
    drives = onset["drive"].values
    fig, axes = plt.subplots(1, 1 + drives.size, figsize=(4.0 * (1 + drives.size), 3.9), squeeze=False)
    axes = axes[0]
    colors = _size_colors(onset["N"].values)
    g = onset["g"].values
    fine = np.linspace(g.min(), g.max(), 200)
    curves = axes[0]
    drive0 = drives[0]
    for n, color in colors.items():
        curves.plot(g, onset["lambda1"].sel(N=n, drive=drive0).mean("replicate"), "o-", ms=2.5, lw=1, color=color,
                    label=f"N = {n}")
    curves.plot(fine, [lambda1_mean_field(x, float(drive0)) for x in fine], color="k", lw=1.2, ls="--",
                label="mean field")
    curves.axhline(onset.attrs["onset_level"], color="0.5", lw=0.8, ls=":", label="level ε")
    curves.axhline(0.0, color="0.3", lw=0.6)
    curves.set(xlabel="gain g", ylabel="λ1 (1/step), mean over networks", title=f"λ1 near the onset, σ = {drive0:g}",
               ylim=(-0.02, None))
    curves.legend(fontsize=8, loc="upper left")

    exponent = onset.attrs["onset_size_exponent"]
    x_sizes = onset["N"].values.astype(float) ** -exponent
    for ax, drive in zip(axes[1:], drives):
        d = onset.sel(drive=drive)
        for n, x, color in zip(colors, x_sizes, colors.values()):
            values = d["g_chaos"].sel(N=n).values
            ax.plot(np.full(values.size, x), values, ".", color=color, alpha=0.35, ms=4)
            mean, half = mean_interval(values)
            ax.errorbar(x, mean, yerr=half, fmt="o", color=color, ms=5, capsize=3, label=f"N = {n}")
        line = np.linspace(0.0, x_sizes.max() * 1.05, 2)
        g_inf = float(d["g_inf"])
        ax.plot(line, g_inf + float(d["finite_size_slope"]) * line, color="0.3", lw=1, label="fit")
        low, high = float(d["g_inf_low"]), float(d["g_inf_high"])
        ax.errorbar(0.0, g_inf, yerr=[[g_inf - low], [high - g_inf]], fmt="s", color="k", ms=5, capsize=4,
                    label="N → ∞ (95 % bootstrap)")
        ax.axhline(float(d["mean_field_onset"]), color="tab:red", lw=1, ls="--",
                   label=f"mean field {float(d['mean_field_onset']):.3f}")
        ax.set(xlabel=f"$N^{{-{exponent:g}}}$  (N → ∞ at 0)", ylabel="onset of chaos $g_{chaos}$",
               title=f"Onset against size, σ = {drive:g}")
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def spectra_figure(summary: xr.Dataset) -> plt.Figure:
    """Lyapunov spectra against i/N: one panel per gain, one line per N (replicate mean, band: range over
    replicates; undriven first drive). Each panel shows the compared range i/N <= x_max, which the
    size-invariance claim judges, on its own y scale, so the leading exponents are not squashed by the
    most negative ones."""
    set_theme()
    drive = summary["drive"].values[0]
    gains = summary["g_spectrum"].values
    x_max = summary.attrs["invariance_max_fraction"]
    n_cols = min(3, gains.size)  # at most three panels a row
    n_rows = -(-gains.size // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.0 * n_cols, 3.0 * n_rows), squeeze=False)
    for ax in axes.ravel()[gains.size:]:
        ax.set_visible(False)
    colors = _size_colors(summary["N"].values)
    x = summary["fraction"].values
    compared = x <= x_max
    for ax, g in zip(axes.ravel(), gains):
        shown = [0.0]
        for n, color in colors.items():
            spec = summary["spectrum"].sel(N=n, g_spectrum=g, drive=drive)
            lo, hi = spec.min("replicate").values, spec.max("replicate").values
            ax.plot(x, spec.mean("replicate"), color=color, lw=1.5, label=f"N = {n}")
            ax.fill_between(x, lo, hi, color=color, alpha=0.25, lw=0)
            shown += [np.nanmin(lo[compared]), np.nanmax(hi[compared])]
        bottom, top = min(shown), max(shown)
        margin = 0.08 * (top - bottom)
        ax.set(xlim=(0.0, min(1.0, 1.2 * x_max)), ylim=(bottom - margin, top + margin))
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.axvline(x_max, color="0.6", lw=0.8, ls=":")
        ax.set(xlabel="i / N", title=f"g = {g:g}")
    for row in axes:
        row[0].set_ylabel("Lyapunov exponent λ_i (1/step)")
    axes[0, 0].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"Leading Lyapunov spectra against i/N (drive σ = {drive:g}; dotted: end of the compared "
                 f"range i/N ≤ {x_max:g})", fontsize=10)
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
    # White at the mean-field onset g = 1, not at the middle of the sweep: blue decays, red grows.
    norm = TwoSlopeNorm(vmin=min(float(g.min()), 0.99), vcenter=1.0, vmax=max(float(g.max()), 1.01))
    lags = summary["lag"].values
    for gain in g:
        left.plot(lags, sel["mean_log_gradient_norm"].sel(g=gain), color=cmap(norm(gain)), lw=1.2)
    left.axvline(summary.attrs["min_lag"], color="0.5", lw=0.8, ls=":")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=norm)
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
    """Job ``chaos_figures``: λ1 and D_KY / N against g, the onset against N, spectra against i/N, BPTT norm
    against lag."""
    summary = job.read("summary")
    job.figure("lambda1", lambda1_figure(summary))
    job.figure("onset", onset_figure(job.read("onset")))
    job.figure("spectra", spectra_figure(summary))
    job.figure("gradients", gradient_figure(summary))
