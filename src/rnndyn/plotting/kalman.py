"""Figures of the Kalman stage: the MSE gap per system, the noise sweep (KalmanNet's figure), the poles
with the region their conditioning allows, and the impulse responses. Every replicate is drawn; the
claims' medians and min-max intervals are drawn over them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.lines import Line2D

from rnndyn.analysis.kalman import pseudospectral_distance
from rnndyn.plotting.theme import DATA_COLOR, STABLE_COLOR, UNSTABLE_COLOR, set_theme
from rnndyn.stages.kalman import CLAIMED_ARCH, GAP_TOL_DB

if TYPE_CHECKING:
    from rnndyn.jobs import Job

_ARCH_STYLE = ((STABLE_COLOR, "o"), (UNSTABLE_COLOR, "^"), ("#6a3d9a", "s"), ("#33a02c", "D"))
# Report width (about 900 px) holds 9 in at nominal size: text stays at >= 8 pt.
_WIDTH = 9.0
_LEGEND_PT = 8
_GAP_LINEAR_DB = 0.01


def figures_job(job: Job) -> None:
    """Job ``kalman_figures``: the gap, noise-sweep, eigenvalue and impulse-response figures."""
    analysis = job.read()
    job.figure("gap", gap(analysis, GAP_TOL_DB))
    job.figure("noise_sweep", noise_sweep(analysis, GAP_TOL_DB))
    job.figure("eigenvalues", eigenvalues(analysis))
    job.figure("impulse_response", impulse_responses(analysis))


def _styles(ds: xr.Dataset) -> dict[str, tuple[str, str]]:
    return {str(arch): style for arch, style in zip(ds["arch"].values, _ARCH_STYLE)}


def _grid(n: int, height: float = 2.9) -> tuple[plt.Figure, np.ndarray]:
    """At most three panels a row, the report's width."""
    columns = min(n, 3)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(_WIDTH, height * rows + 0.6), layout="constrained",
                             squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def _replicates_with_median(ax: plt.Axes, x: float, values: np.ndarray, color: str, marker: str,
                            width: float) -> None:
    """Every replicate as a small dot (spread sideways), the median as a large marker with a min-max bar."""
    values = values[np.isfinite(values)]
    if not values.size:
        return
    offsets = np.linspace(-width / 2, width / 2, values.size) if values.size > 1 else np.zeros(1)
    ax.scatter(x + offsets, values, s=10, color=color, alpha=0.5, lw=0, zorder=3)
    median = np.median(values)
    ax.errorbar([x], [median], yerr=[[median - values.min()], [values.max() - median]], fmt=marker, color=color,
                ms=7, mfc="white", mew=1.5, capsize=3, zorder=4)


def gap(ds: xr.Dataset, tolerance_db: float) -> plt.Figure:
    """10 log10(MSE_RNN / MSE_KF) per system and architecture: every replicate, the median and its
    min-max interval, with the linear network's tolerance band."""
    set_theme()
    systems, archs = ds["system"].values, ds["arch"].values
    styles = _styles(ds)
    fig, ax = plt.subplots(figsize=(_WIDTH, 4.4), layout="constrained")
    x = np.arange(systems.size)
    width = 0.7 / archs.size
    for j, arch in enumerate(archs):
        color, marker = styles[str(arch)]
        offset = (j - (archs.size - 1) / 2) * width
        for i, system in enumerate(systems):
            _replicates_with_median(ax, x[i] + offset, ds["gap_db"].sel(system=system, arch=arch).values, color,
                                    marker, 0.6 * width)
    ax.axhspan(-tolerance_db, tolerance_db, color=STABLE_COLOR, alpha=0.12, lw=0)
    ax.axhline(0, color=DATA_COLOR, lw=0.8)
    # Linear within +-0.01 dB (where trained linear networks sit), logarithmic beyond: a diverged
    # replicate (hundreds of dB) stays on the axis without flattening the others.
    ax.set_yscale("symlog", linthresh=_GAP_LINEAR_DB)
    ax.set(xticks=x, xlim=(-0.6, systems.size - 0.4), ylabel="10 log10(MSE_RNN / MSE_KF) (dB)",
           title="Gap to the steady-state Kalman predictor (test split)")
    ax.set_xticklabels([str(label) for label in ds["label"].values], rotation=25, ha="right")
    handles = [Line2D([], [], color=styles[str(a)][0], marker=styles[str(a)][1], mfc="white", ls="",
                      label=f"{a}: median, min-max over {ds.sizes['replicate']} replicates (dots)") for a in archs]
    handles.append(plt.Rectangle((0, 0), 1, 1, color=STABLE_COLOR, alpha=0.12,
                                 label=f"±{tolerance_db:g} dB: the {CLAIMED_ARCH} network's claim"))
    fig.legend(handles=handles, loc="outside upper center", ncols=2, fontsize=_LEGEND_PT, frameon=False)
    return fig


def noise_sweep(ds: xr.Dataset, tolerance_db: float) -> plt.Figure:
    """KalmanNet's figure (Revach et al. 2022): one-step MSE in dB against 1/r^2 in dB at fixed q^2,
    the Kalman predictor's analytic floor as a line and the networks as markers; beside it the gap."""
    set_theme()
    sweep = ds.sel(system=ds["in_noise_sweep"].values)
    styles = _styles(ds)
    x = sweep["inverse_r2_db"].values
    fig, (left, right) = plt.subplots(1, 2, figsize=(_WIDTH, 4.0), layout="constrained")
    left.plot(sweep["noise_sweep_inverse_r2_db"], 10 * np.log10(sweep["noise_sweep_mse_floor"]), color=DATA_COLOR,
              lw=2, alpha=0.6, label="Kalman predictor: floor tr(CPCᵀ + R) / p")
    # Large hollow squares around the networks' markers: both stay visible where they coincide.
    left.scatter(x, 10 * np.log10(sweep["mse_kf"]), s=170, marker="s", facecolors="none", edgecolors=DATA_COLOR,
                 lw=1.2, zorder=5, label="Kalman predictor: test MSE")
    step = np.min(np.diff(np.sort(x))) if x.size > 1 else 10.0
    for j, arch in enumerate(ds["arch"].values):
        color, marker = styles[str(arch)]
        offset = (j - (ds.sizes["arch"] - 1) / 2) * 0.08 * step
        for i in range(x.size):
            mse_db = 10 * np.log10(sweep["mse_rnn"].sel(arch=arch).values[i])
            _replicates_with_median(left, x[i] + offset, mse_db, color, marker, 0.05 * step)
            _replicates_with_median(right, x[i] + offset, sweep["gap_db"].sel(arch=arch).values[i], color, marker,
                                    0.05 * step)
        left.plot([], [], color=color, marker=marker, mfc="white", ls="", label=f"{arch} network (median, min-max)")
    # The Kalman line's range: a diverged replicate's bar runs off the top (the gap panel shows it).
    line_db = 10 * np.log10(sweep["noise_sweep_mse_floor"].values)
    left.set(xlabel="1/r² (dB)", ylabel="one-step MSE per output (dB)", title="MSE against observation noise",
             ylim=(line_db.min() - 2.0, line_db.max() + 2.0))
    left.legend(fontsize=_LEGEND_PT, loc="upper right")
    right.axhspan(-tolerance_db, tolerance_db, color=STABLE_COLOR, alpha=0.12, lw=0,
                  label=f"±{tolerance_db:g} dB (claim)")
    right.axhline(0, color=DATA_COLOR, lw=0.8)
    right.set_yscale("symlog", linthresh=_GAP_LINEAR_DB)
    right.set(xlabel="1/r² (dB)", ylabel="10 log10(MSE_RNN / MSE_KF) (dB)", title="Gap at each noise level")
    right.legend(fontsize=_LEGEND_PT, loc="upper right")
    return fig


def eigenvalues(ds: xr.Dataset) -> plt.Figure:
    """Per system, eig(A - A K C) and the learned poles of every replicate, zoomed to them, with the
    region the linear network's poles may occupy: the eps-pseudospectrum of the Kalman recurrence
    (balanced realisation) at the median eps its impulse-response errors imply."""
    set_theme()
    systems = ds["system"].values
    styles = _styles(ds)
    fig, axes = _grid(systems.size)
    for ax, system in zip(axes, systems):
        s = ds.sel(system=system)
        n = int(s["state_dim"])
        kf = s["kf_eigenvalue_real"].values[:n] + 1j * s["kf_eigenvalue_imag"].values[:n]
        points = [kf]
        for arch in ds["arch"].values:
            color, marker = styles[str(arch)]
            learned = (s["matched_eigenvalue_real"].sel(arch=arch).values
                       + 1j * s["matched_eigenvalue_imag"].sel(arch=arch).values).ravel()
            learned = learned[np.isfinite(learned)]
            points.append(learned)
            ax.scatter(learned.real, learned.imag, s=16, color=color, marker=marker, alpha=0.7, lw=0, zorder=3)
        limits = _pseudospectrum_panel(ax, s, np.concatenate(points))
        ax.scatter(kf.real, kf.imag, s=110, facecolors="none", edgecolors=DATA_COLOR, lw=1.4, zorder=4)
        ax.set(aspect="equal", xlim=limits[0], ylim=limits[1], xlabel="Re", ylabel="Im",
               title=str(s["label"].values))
        ax.title.set_fontsize(9)
    handles = [Line2D([], [], marker="o", mfc="none", mec=DATA_COLOR, ms=9, ls="", label="eig(A - A K C)")]
    handles += [Line2D([], [], color=styles[str(a)][0], marker=styles[str(a)][1], ls="",
                       label=f"{a} network, every replicate") for a in ds["arch"].values]
    handles.append(Line2D([], [], color=STABLE_COLOR, lw=1.2, label=f"allowed region for the {CLAIMED_ARCH} "
                                                                    "network: ε-pseudospectrum, median ε"))
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=_LEGEND_PT, frameon=False)
    return fig


def _pseudospectrum_panel(ax: plt.Axes, s: xr.Dataset, points: np.ndarray) -> tuple[tuple, tuple]:
    """Shade the eps-pseudospectrum of the system's balanced A - A K C (eps: the median over the claimed
    network's replicates) and return axis limits that hold it and ``points``, within the unit disc's box.

    A coarse grid over the box finds the region's extent; a fine grid over the zoomed axes draws it."""
    n = int(s["state_dim"])
    W = s["kf_balanced_W"].values[:n, :n]
    epsilon = float(np.nanmedian(s["realisation_epsilon"].sel(arch=CLAIMED_ARCH))) \
        if CLAIMED_ARCH in s["arch"].values else np.nan
    coarse = np.linspace(-1.1, 1.1, 89)
    re, im = np.meshgrid(coarse, coarse)
    inside = pseudospectral_distance(W, re + 1j * im) <= epsilon if np.isfinite(epsilon) else np.zeros(re.shape, bool)
    step = coarse[1] - coarse[0]  # the region reaches up to a grid step beyond the coarse points inside it
    xs = np.concatenate([points.real, re[inside] - step, re[inside] + step])
    ys = np.concatenate([points.imag, im[inside] - step, im[inside] + step])
    half = min(max(0.5 * max(np.ptp(xs), np.ptp(ys)) * 1.15, 0.05), 1.1)
    centre = [float(np.clip(0.5 * (v.min() + v.max()), -1.1 + half, 1.1 - half)) for v in (xs, ys)]
    if np.isfinite(epsilon):
        fine_re, fine_im = np.meshgrid(np.linspace(centre[0] - half, centre[0] + half, 121),
                                       np.linspace(centre[1] - half, centre[1] + half, 121))
        sigma = pseudospectral_distance(W, fine_re + 1j * fine_im)
        if (sigma <= epsilon).any():
            ax.contourf(fine_re, fine_im, sigma, levels=[0.0, epsilon], colors=[STABLE_COLOR], alpha=0.12)
            ax.contour(fine_re, fine_im, sigma, levels=[epsilon], colors=[STABLE_COLOR], linewidths=1.2)
    theta = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(theta), np.sin(theta), color="0.6", lw=0.8)  # the unit circle, where it is in view
    return (centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half)


def impulse_responses(ds: xr.Dataset) -> plt.Figure:
    """||C W^k U||_F of every (linearised) network against the Kalman predictor's, per system."""
    set_theme()
    systems = ds["system"].values
    styles = _styles(ds)
    fig, axes = _grid(systems.size)
    lag = ds["lag"].values
    for ax, system in zip(axes, systems):
        s = ds.sel(system=system)
        ax.plot(lag, s["kf_impulse_norm"], color=DATA_COLOR, lw=3, alpha=0.45)
        notes = []
        for arch in ds["arch"].values:
            color, _ = styles[str(arch)]
            curves = s["rnn_impulse_norm"].sel(arch=arch).values
            for curve in curves:
                ax.plot(lag, curve, color=color, lw=0.9, alpha=0.8)
            notes.append(f"{arch}: {float(np.nanmedian(s['impulse_error'].sel(arch=arch))):.2g}")
        ax.set(yscale="log", xlabel="lag k (steps)", ylabel="||C W^k U||_F", title=str(s["label"].values))
        ax.title.set_fontsize(9)
        ax.text(0.97, 0.95, "median rel. error\n" + "\n".join(notes), transform=ax.transAxes, ha="right", va="top",
                fontsize=_LEGEND_PT)
    handles = [Line2D([], [], color=DATA_COLOR, lw=3, alpha=0.45, label="Kalman predictor C (A - A K C)^k A K")]
    handles += [Line2D([], [], color=styles[str(a)][0], lw=0.9, label=f"{a} network, every replicate")
                for a in ds["arch"].values]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=_LEGEND_PT, frameon=False)
    return fig
