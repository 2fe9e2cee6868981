"""Figures of the bistable-neuron stage."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from rnndyn.analysis.bifurcation import fold_boundary_formula
from rnndyn.plotting.theme import DATA_COLOR, STABLE_COLOR, UNSTABLE_COLOR, set_theme

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def bifurcation_diagram(scan: xr.Dataset) -> plt.Figure:
    """Fixed points at b = 0 against w: stable solid, unstable dashed, simulated end states as points."""
    set_theme()
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    w = scan["w_fine"].values
    for branch in scan["branch"].values:
        h = scan["fixed_point_b0"].sel(branch=branch).values
        stable = scan["stable_b0"].sel(branch=branch).values.astype(bool)
        ax.plot(w, np.where(stable, h, np.nan), color=STABLE_COLOR, lw=2,
                label="stable fixed point" if branch == 0 else None)
        ax.plot(w, np.where(stable, np.nan, h), color=UNSTABLE_COLOR, lw=1.5, ls="--",
                label="unstable fixed point" if branch == 1 else None)
    end = scan["end_state"].sel(b=0.0, method="nearest")
    b_used = float(end["b"])
    ww = np.broadcast_to(end["w"].values[:, None], end.shape)
    ax.scatter(ww.ravel(), end.values.ravel(), s=10, color=DATA_COLOR, zorder=3,
               label=f"simulated end states (b = {b_used:g})")
    ax.axvline(float(scan["pitchfork_w"]), color="0.5", lw=0.8, ls=":")
    ax.annotate(f"pitchfork w = {float(scan['pitchfork_w']):.4f}", (float(scan["pitchfork_w"]), -0.95),
                xytext=(5, 0), textcoords="offset points", fontsize=8, color="0.3")
    ax.set(xlabel="recurrent weight w", ylabel="fixed point h*", title="Bistable neuron: pitchfork at b = 0")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def stability_map(scan: xr.Dataset) -> plt.Figure:
    """Number of stable fixed points over (w, b), with the analytic fold curves ±|b_c(w)| of the cusp."""
    set_theme()
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    w, b = scan["w_fine"].values, scan["b_fine"].values
    mesh = ax.pcolormesh(w, b, scan["n_stable"].values.T, cmap=plt.get_cmap("Blues", 3), vmin=-0.5,
                         vmax=2.5, shading="nearest", rasterized=True)
    cbar = fig.colorbar(mesh, ax=ax, ticks=[0, 1, 2])
    cbar.set_label("stable fixed points")
    w_curve = np.linspace(1.0, w.max(), 400)
    b_curve = fold_boundary_formula(w_curve)
    ax.plot(w_curve, b_curve, color=UNSTABLE_COLOR, lw=1.5, label="analytic fold |b_c(w)|")
    ax.plot(w_curve, -b_curve, color=UNSTABLE_COLOR, lw=1.5)
    w_fold, b_fold = scan["w_fold"].values, scan["fold_b_measured"].values
    step = max(1, w_fold.size // 25)
    ax.scatter(w_fold[::step], b_fold[::step], s=12, color=DATA_COLOR, zorder=3, label="measured fold")
    ax.scatter(w_fold[::step], -b_fold[::step], s=12, color=DATA_COLOR, zorder=3)
    ax.set(xlabel="recurrent weight w", ylabel="bias b", title="Bistable region and cusp at (1, 0)",
           ylim=(b.min(), b.max()))
    ax.legend(loc="lower left", fontsize=8)
    return fig


def figures_job(job: Job) -> None:
    """Job ``bistable_figures``: the bifurcation diagram and the (w, b) stability map."""
    scan = job.read()
    job.figure("bifurcation", bifurcation_diagram(scan))
    job.figure("map", stability_map(scan))
