"""Figures of the linear-RNN stage: impulse responses over rho(W), constant-input convergence."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.colors import TwoSlopeNorm
from matplotlib.ticker import FormatStrFormatter

from rnndyn.plotting.theme import DATA_COLOR, STABLE_COLOR, UNSTABLE_COLOR, set_theme

if TYPE_CHECKING:
    from rnndyn.jobs import Job

_KIND_LABEL = {"normal": "normal W", "nonnormal": "non-normal W"}
_MAX_LAG_SHOWN = 200


def impulse_responses(ds: xr.Dataset) -> plt.Figure:
    """||W^k U|| against k coloured by rho(W) for normal and non-normal W (top), the fitted decay
    rate against log rho(W) and the memory horizon against its prediction log(threshold) / log rho
    (bottom)."""
    set_theme()
    fig, axes = plt.subplots(2, 2, figsize=(9.0, 7.4), layout="constrained")
    rho = ds["rho"].values
    # Diverging around rho = 1: blue responses decay, red ones grow; rho = 1 itself, the centre of
    # the map (pale), is drawn black.
    norm = TwoSlopeNorm(vcenter=1.0, vmin=min(rho.min(), 0.99), vmax=max(rho.max(), 1.01))
    cmap = plt.get_cmap("coolwarm")
    lag = ds["lag"].values[:_MAX_LAG_SHOWN]
    for ax, kind in zip(axes[0], ds["kind"].values):
        for r in rho:
            curves = ds["impulse_norm"].sel(kind=kind, rho=r).values[:, :_MAX_LAG_SHOWN]
            color = DATA_COLOR if r == 1.0 else cmap(norm(r))
            for curve in curves:
                ax.plot(lag, curve, color=color, lw=0.9 if r == 1.0 else 0.8, alpha=0.85)
        ax.axhline(1.0, color="0.4", lw=0.8, ls=":")
        ax.set(yscale="log", ylim=(1e-12, 1e8), xlabel="lag k (steps)", ylabel="||W^k U|| / ||U||",
               title=f"Impulse responses, {_KIND_LABEL[kind]}")
    colorbar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[0, 1])
    colorbar.set_label("spectral radius ρ(W) (black: ρ = 1)")
    ax = axes[1, 0]
    log_rho = ds["log_rho"].values
    # Normal filled, non-normal hollow and a little to the right: the two agree, and would hide each other.
    shift = 0.01 * float(np.ptp(log_rho) or 1.0)
    for kind, marker, color, offset in zip(ds["kind"].values, ("o", "^"), (STABLE_COLOR, UNSTABLE_COLOR),
                                           (0.0, shift)):
        rates = ds["decay_rate"].sel(kind=kind).values  # (rho, matrix)
        xx = np.broadcast_to(log_rho[:, None], rates.shape) + offset
        ax.scatter(xx.ravel(), rates.ravel(), s=22, marker=marker, label=_KIND_LABEL[kind], zorder=3,
                   facecolors=color if kind == "normal" else "none", edgecolors=color)
    span = np.array([log_rho.min(), log_rho.max()])
    ax.plot(span, span, color=DATA_COLOR, lw=1, label="rate = log ρ")
    worst = float(np.abs(ds["decay_rate"] - ds["log_rho"]).max())
    ax.annotate(f"max |rate − log ρ| = {worst:.2g}", (0.97, 0.04), xycoords="axes fraction", ha="right",
                fontsize=8, color="0.3")
    ax.set(xlabel="log ρ(W) (1/step)", ylabel="fitted decay rate (1/step)",
           title=f"Tail fit, lags {ds.attrs['tail_start_lag']}–{ds.sizes['lag'] - 1}")
    ax.legend(fontsize=8, loc="upper left")
    _memory_horizons(axes[1, 1], ds, shift=0.01 * float(np.ptp(rho) or 1.0))
    return fig


def _memory_horizons(ax: plt.Axes, ds: xr.Dataset, *, shift: float) -> None:
    """Measured memory horizons of the stable W against rho, with the normal-W prediction."""
    rho = ds["rho"].values
    stable = rho < 1.0
    for kind, marker, color, offset in zip(ds["kind"].values, ("o", "^"), (STABLE_COLOR, UNSTABLE_COLOR),
                                           (0.0, shift)):
        horizon = ds["memory_horizon"].sel(kind=kind).values[stable]  # (rho, matrix)
        xx = np.broadcast_to(rho[stable, None], horizon.shape) + offset
        ax.scatter(xx.ravel(), horizon.ravel(), s=22, marker=marker, label=_KIND_LABEL[kind], zorder=3,
                   facecolors=color if kind == "normal" else "none", edgecolors=color)
    fine = np.linspace(rho[stable].min(), rho[stable].max(), 200)
    threshold = ds.attrs["horizon_threshold"]
    ax.plot(fine, np.log(threshold) / np.log(fine), color=DATA_COLOR, lw=1,
            label=f"log({threshold:g}) / log ρ")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.set(yscale="log", xlabel="spectral radius ρ(W)", ylabel="memory horizon (steps)",
           title=f"Memory horizon: response below {threshold:g} of its start")
    ax.legend(fontsize=8, loc="upper left")


def convergence_map(ds: xr.Dataset) -> plt.Figure:
    """Median distance to (I - W)^{-1} U u over steps and rho(W) under a constant input, with the
    fraction of runs that converged."""
    set_theme()
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 4.2), sharey=True, layout="constrained")
    rho, t = ds["rho"].values, ds["t"].values
    rows = np.arange(rho.size)
    rtol = ds.attrs["convergence_rtol"]
    for ax, kind in zip(axes, ds["kind"].values):
        with np.errstate(divide="ignore", invalid="ignore"):
            log_distance = np.log10(ds["distance"].sel(kind=kind).median("matrix").values)
        mesh = ax.pcolormesh(t, rows, np.clip(log_distance, -14, 6), cmap="viridis", vmin=-14, vmax=6,
                             shading="nearest", rasterized=True)
        ax.contour(t, rows, log_distance, levels=[np.log10(rtol)], colors="white", linewidths=1,
                   linestyles="solid")
        converged = ds["converged"].sel(kind=kind).mean("matrix").values
        for row, fraction, radius in zip(rows, converged, rho):
            as_expected = fraction == (1.0 if radius < 1 else 0.0)
            ax.annotate(f"{fraction:.0%}", (t.max(), row), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=8, color=STABLE_COLOR if as_expected else UNSTABLE_COLOR,
                        annotation_clip=False)
        ax.axhline(np.searchsorted(rho, 1.0) - 0.5, color="white", lw=1.5, ls="--")
        ax.set(xlabel="step t", title=f"Constant input, {_KIND_LABEL[kind]}")
    axes[0].set(yticks=rows, yticklabels=[f"{r:g}" for r in rho], ylabel="spectral radius rho(W)")
    cbar = fig.colorbar(mesh, ax=axes, pad=0.04)
    cbar.set_label("log10 median ||h_t - h*|| / ||h_0 - h*||")
    fig.supxlabel(f"white contour: distance = {rtol:g}; right margin: fraction of runs converged "
                  "(blue: as expected, red: not)",
                  fontsize=8, color="0.3")
    return fig


def figures_job(job: Job) -> None:
    """Job ``linear_figures``: impulse responses coloured by rho(W); the constant-input convergence map."""
    sweep = job.read()
    job.figure("impulse", impulse_responses(sweep))
    job.figure("convergence", convergence_map(sweep))
