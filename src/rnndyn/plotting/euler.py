"""Figures of the forward-Euler stage: the stability region with measured gradient growth rates,
gradient norms against sequence length, and lambda_1 of Lorenz's Euler map against dt."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.colors import TwoSlopeNorm

from rnndyn.plotting.theme import DATA_COLOR, STABLE_COLOR, UNSTABLE_COLOR, set_theme
from rnndyn.stages.euler import FLOW_LAMBDA1, REFERENCE_EULER_LAMBDA1

if TYPE_CHECKING:
    from rnndyn.jobs import Job

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _eigenvalues(gradients: xr.Dataset, system: str) -> np.ndarray:
    g = gradients.sel(system=system)
    lam = g["eigenvalue_real"].values + 1j * g["eigenvalue_imag"].values
    return lam[np.isfinite(lam)]


def stability_region(gradients: xr.Dataset) -> plt.Figure:
    """The disc |1 + z| < 1 in the complex z = dt lambda plane; for every system and dt of the sweep,
    z of its eigenvalue of largest |1 + z|, coloured by the measured BPTT growth rate."""
    set_theme()
    fig, ax = plt.subplots(figsize=(6.5, 5.0), layout="constrained")
    theta = np.linspace(0, 2 * np.pi, 400)
    ax.fill(-1 + np.cos(theta), np.sin(theta), color=STABLE_COLOR, alpha=0.12, lw=0)
    ax.plot(-1 + np.cos(theta), np.sin(theta), color=STABLE_COLOR, lw=1.2, label="|1 + z| = 1")
    rates = gradients["growth_rate"].values
    finite = rates[np.isfinite(rates)]
    # Saturate at the median |rate|: the sign of the rate is the point, and the scalar system's
    # large rates would otherwise wash out the others.
    span = max(float(np.median(np.abs(finite))), 1e-3)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-span, vmax=span)
    for system, marker in zip(gradients["system"].values, _MARKERS):
        lam = _eigenvalues(gradients, system)
        dt = gradients["dt"].sel(system=system).values
        z = dt[:, None] * lam[None, :]
        dominant = z[np.arange(dt.size), np.argmax(np.abs(1 + z), axis=1)]
        rate = np.clip(gradients["growth_rate"].sel(system=system).values, -span, span)
        scatter = ax.scatter(dominant.real, dominant.imag, c=rate, cmap="coolwarm", norm=norm, s=28,
                             marker=marker, edgecolors="0.3", linewidths=0.4, label=str(system), zorder=3)
    # Shrunk to the height of the equal-aspect axes (constrained layout sizes it to the cell).
    fig.colorbar(scatter, ax=ax, shrink=0.6, label="measured growth rate of ||dL/dh_0||\n(1/step, saturated)")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.axvline(0, color="0.6", lw=0.6)
    ax.set(xlabel="Re(dt lambda)", ylabel="Im(dt lambda)", aspect="equal",
           title="Forward Euler: stability region and BPTT growth")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def gradient_norms(gradients: xr.Dataset) -> plt.Figure:
    """||dL/dh_0|| against T for a few dt around the boundary, one panel per system, and the
    measured growth rate against dt / boundary for every system; at most three panels a row."""
    set_theme()
    systems = gradients["system"].values
    n_panels = systems.size + 1
    n_cols = min(3, n_panels)
    n_rows = -(-n_panels // n_cols)
    fig, grid = plt.subplots(n_rows, n_cols, figsize=(9.0, 3.3 * n_rows), squeeze=False, layout="constrained")
    axes = grid.ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    ratio = gradients["dt_ratio"].values
    shown = np.unique(np.searchsorted(ratio, [ratio.min(), 0.9, 1.0, 1.1, ratio.max()]).clip(0, ratio.size - 1))
    norm = TwoSlopeNorm(vcenter=1.0, vmin=min(ratio.min(), 0.99), vmax=max(ratio.max(), 1.01))
    T = gradients["T"].values
    for ax, system in zip(axes, systems):
        for i in shown:
            norms = gradients["gradient_norm"].sel(system=system).values[i]
            # The boundary itself would take the colour map's pale centre: black instead.
            color = DATA_COLOR if np.isclose(ratio[i], 1.0) else plt.get_cmap("coolwarm")(norm(ratio[i]))
            ax.plot(T, norms, marker="o", ms=3, color=color, label=f"dt/boundary = {ratio[i]:.2f}")
        ax.set(yscale="log", xlabel="sequence length T (steps)", ylabel="||dL/dh_0||", title=str(system))
    axes[0].legend(fontsize=8)
    ax = axes[systems.size]
    for system, marker in zip(systems, _MARKERS):
        g = gradients.sel(system=system)
        ax.plot(ratio, g["growth_rate_predicted"], color="0.6", lw=1)
        ax.scatter(ratio, g["growth_rate"], marker=marker, s=14, label=f"{system}: switch "
                   f"{float(g['switch'] / g['boundary']):.4f}", zorder=3)
    ax.axhline(0, color=DATA_COLOR, lw=0.8)
    ax.axvline(1, color=UNSTABLE_COLOR, lw=0.8, ls="--")
    ax.set(xlabel="dt / analytic boundary", ylabel="growth rate (1/step)", ylim=(-1.5, 1.0),
           title="Rate (grey: log max |1 + dt λ|)")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def lorenz_lambda1(lorenz: list[xr.Dataset], references: dict[float, float], flow_lambda1: float) -> plt.Figure:
    """lambda_1 of the Euler and RK4 maps of Lorenz-63 against dt (mean +- 3 standard errors),
    with the reference values of the Euler map and the flow's exponent."""
    set_theme()
    fig, ax = plt.subplots(figsize=(6.0, 4.0), layout="constrained")
    for integrator, color, marker in (("euler", UNSTABLE_COLOR, "o"), ("rk4", STABLE_COLOR, "s")):
        runs = sorted((float(ds["dt"]), ds["lambda1"].values) for ds in lorenz if ds["integrator"].item() == integrator)
        if not runs:
            continue
        dt = np.array([r[0] for r in runs])
        lam = [r[1][np.isfinite(r[1])] for r in runs]
        mean = np.array([v.mean() for v in lam])
        err = np.array([3 * v.std(ddof=1) / np.sqrt(v.size) for v in lam])
        ax.errorbar(dt, mean, yerr=err, marker=marker, color=color, capsize=3, lw=1,
                    label=f"{integrator} map (mean +- 3 s.e.)")
    ref_dt = np.array(sorted(references))
    ax.scatter(ref_dt, [references[d] for d in ref_dt], marker="x", s=50, color=DATA_COLOR, zorder=4,
               label="reference (Euler map)")
    ax.axhline(flow_lambda1, color=STABLE_COLOR, lw=0.8, ls=":", label=f"flow lambda_1 = {flow_lambda1}")
    ax.set(xscale="log", xlabel="step dt (time units)", ylabel="lambda_1 (1/time)",
           title="Lorenz-63: Euler's spurious growth")
    ax.legend(fontsize=8)
    return fig


def figures_job(job: Job) -> None:
    """Job ``euler_figures``: stability region with measured growth rates, gradient norms against T,
    lambda_1 of Lorenz's Euler map against dt."""
    gradients = job.read("gradients")
    job.figure("region", stability_region(gradients))
    job.figure("norms", gradient_norms(gradients))
    references = {dt: value for dt, (value, _) in REFERENCE_EULER_LAMBDA1.items()}
    job.figure("lorenz", lorenz_lambda1(job.read_all("lorenz"), references, FLOW_LAMBDA1))
