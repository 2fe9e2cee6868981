"""Figures of the linear-RNN stage: impulse responses over rho(W), constant-input convergence."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.colors import TwoSlopeNorm

from rnndyn.plotting.theme import DATA_COLOR, STABLE_COLOR, UNSTABLE_COLOR, set_theme

if TYPE_CHECKING:
    from rnndyn.jobs import Job

_KIND_LABEL = {"normal": "normal W", "nonnormal": "non-normal W"}
_MAX_LAG_SHOWN = 200


def impulse_responses(ds: xr.Dataset) -> plt.Figure:
    """||W^k U|| against k coloured by rho(W) for normal and non-normal W, and the fitted decay
    rate against log rho(W)."""
    set_theme()
    fig, axes = plt.subplots(1, 3, figsize=(14.0, 4.2), layout="constrained")
    rho = ds["rho"].values
    # Diverging around rho = 1: blue responses decay, red ones grow.
    norm = TwoSlopeNorm(vcenter=1.0, vmin=min(rho.min(), 0.99), vmax=max(rho.max(), 1.01))
    cmap = plt.get_cmap("coolwarm")
    lag = ds["lag"].values[:_MAX_LAG_SHOWN]
    for ax, kind in zip(axes[:2], ds["kind"].values):
        for r in rho:
            curves = ds["impulse_norm"].sel(kind=kind, rho=r).values[:, :_MAX_LAG_SHOWN]
            for curve in curves:
                ax.plot(lag, curve, color=cmap(norm(r)), lw=0.8, alpha=0.8)
        ax.axhline(1.0, color="0.4", lw=0.8, ls=":")
        ax.set(yscale="log", ylim=(1e-12, 1e8), xlabel="lag k (steps)", ylabel="||W^k U|| / ||U||",
               title=f"Impulse responses, {_KIND_LABEL[kind]}")
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[1], label="spectral radius rho(W)")
    ax = axes[2]
    log_rho = ds["log_rho"].values
    for kind, marker, color in zip(ds["kind"].values, ("o", "^"), (STABLE_COLOR, UNSTABLE_COLOR)):
        rates = ds["decay_rate"].sel(kind=kind).values  # (rho, matrix)
        xx = np.broadcast_to(log_rho[:, None], rates.shape)
        ax.scatter(xx.ravel(), rates.ravel(), s=14, marker=marker, color=color, alpha=0.7,
                   label=_KIND_LABEL[kind], zorder=3)
    span = np.array([log_rho.min(), log_rho.max()])
    ax.plot(span, span, color=DATA_COLOR, lw=1, label="rate = log rho")
    worst = float(np.abs(ds["decay_rate"] - ds["log_rho"]).max())
    ax.annotate(f"max |rate - log rho| = {worst:.2g}", (0.97, 0.04), xycoords="axes fraction", ha="right",
                fontsize=8, color="0.3")
    ax.set(xlabel="log rho(W) (1/step)", ylabel="fitted decay rate (1/step)",
           title=f"Tail fit, lags {ds.attrs['tail_start_lag']}-{ds.sizes['lag'] - 1}")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def convergence_map(ds: xr.Dataset) -> plt.Figure:
    """Median distance to (I - W)^{-1} U u over steps and rho(W) under a constant input, with the
    fraction of runs that converged."""
    set_theme()
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.2), sharey=True, layout="constrained")
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
