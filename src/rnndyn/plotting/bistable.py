"""Figures of the bistable-neuron stage."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from rnndyn.analysis.bifurcation import fold_boundary_formula
from rnndyn.plotting.theme import DATA_COLOR, STABLE_COLOR, UNSTABLE_COLOR, set_theme
from rnndyn.stages.bistable import REFERENCE_H_STAR

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def bifurcation_diagram(scan: xr.Dataset) -> plt.Figure:
    """Fixed points at b = 0 against w: stable solid, unstable dashed, simulated end states as points,
    and the reference values of h* the claims compare with."""
    set_theme()
    fig, ax = plt.subplots(figsize=(8.0, 4.0), layout="constrained")
    w = scan["w_fine"].values
    pitchfork = float(scan["pitchfork_w"])
    h = scan["fixed_point_b0"].values  # (w, branch), sorted by value: branches are not curves
    stable = scan["stable_b0"].values.astype(bool)
    at_zero = np.abs(h) < 1e-6  # the root finder resolves the triple root at w = 1 to about 1e-8
    for sign in (1.0, -1.0):
        # The stable branch of this sign, born at the pitchfork at h* = 0 (not at the next grid point).
        side = np.where(stable & ~at_zero & (sign * h > 0), sign * h, np.nan)
        curve = sign * np.nanmax(np.where(np.isnan(side), -np.inf, side), axis=1)
        curve[~np.isfinite(curve)] = np.nan
        keep = (w > pitchfork) & np.isfinite(curve)
        ax.plot(np.r_[pitchfork, w[keep]], np.r_[0.0, curve[keep]], color=STABLE_COLOR, lw=2,
                label="stable fixed point" if sign > 0 else None)
    # h* = 0: stable up to the pitchfork, unstable beyond it.
    origin_stable = (at_zero & stable).any(axis=1) & (w < pitchfork)
    ax.plot(np.r_[w[origin_stable], pitchfork], np.zeros(origin_stable.sum() + 1), color=STABLE_COLOR, lw=2)
    origin_unstable = (at_zero & ~stable).any(axis=1) & (w > pitchfork)
    ax.plot(np.r_[pitchfork, w[origin_unstable]], np.zeros(origin_unstable.sum() + 1), color=UNSTABLE_COLOR,
            lw=1.5, ls="--", label="unstable fixed point")
    end = scan["end_state"].sel(b=0.0, method="nearest")
    b_used = float(end["b"])
    ww = np.broadcast_to(end["w"].values[:, None], end.shape)
    ax.scatter(ww.ravel(), end.values.ravel(), s=10, color=DATA_COLOR, zorder=3,
               label=f"simulated end states (b = {b_used:g})")
    w_ref = np.array(sorted(REFERENCE_H_STAR))
    h_ref = np.array([REFERENCE_H_STAR[key] for key in w_ref])
    ax.scatter(np.concatenate([w_ref, w_ref]), np.concatenate([h_ref, -h_ref]), s=70, marker="x",
               color=UNSTABLE_COLOR, lw=1.5, zorder=4, label="reference ±h* (claims)")
    ax.axvline(pitchfork, color="0.5", lw=0.8, ls=":")
    ax.annotate(f"pitchfork w = {pitchfork:.4f}", (pitchfork, -0.95),
                xytext=(5, 0), textcoords="offset points", fontsize=8, color="0.3")
    ax.set(xlabel="recurrent weight w", ylabel="fixed point h*", title="Bistable neuron: pitchfork at b = 0")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)  # outside: the branches fill the axes
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
