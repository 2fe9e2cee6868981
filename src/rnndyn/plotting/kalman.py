"""Figures of the Kalman stage: MSE gap per system and architecture, eigenvalue overlays, impulse
responses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from rnndyn.analysis.replicates import best_replicate
from rnndyn.plotting.theme import DATA_COLOR, STABLE_COLOR, UNSTABLE_COLOR, set_theme
from rnndyn.stages.kalman import GAP_TOL_DB

if TYPE_CHECKING:
    from rnndyn.jobs import Job

_ARCH_STYLE = ((STABLE_COLOR, "o"), (UNSTABLE_COLOR, "^"), ("#6a3d9a", "s"), ("#33a02c", "D"))


def figures_job(job: Job) -> None:
    """Job ``kalman_figures``: the gap, eigenvalue and impulse-response figures of the analysis."""
    analysis = job.read()
    job.figure("gap", gap(analysis, GAP_TOL_DB))
    job.figure("eigenvalues", eigenvalues(analysis))
    job.figure("impulse_response", impulse_responses(analysis))


def _grid(n: int, width: float = 3.3, height: float = 3.2) -> tuple[plt.Figure, np.ndarray]:
    columns = min(n, 3)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), layout="constrained",
                             squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def gap(ds: xr.Dataset, tolerance_db: float) -> plt.Figure:
    """10 log10(MSE_RNN / MSE_KF) per system and architecture (every replicate), with the claim's band."""
    set_theme()
    systems, archs = ds["system"].values, ds["arch"].values
    fig, ax = plt.subplots(figsize=(1.3 * systems.size + 3.0, 4.0), layout="constrained")
    x = np.arange(systems.size)
    width = 0.8 / archs.size
    for j, (arch, (color, marker)) in enumerate(zip(archs, _ARCH_STYLE)):
        values = ds["gap_db"].sel(arch=arch).values  # (system, replicate)
        offset = (j - (archs.size - 1) / 2) * width
        xx = np.broadcast_to((x + offset)[:, None], values.shape)
        ax.scatter(xx.ravel(), values.ravel(), color=color, marker=marker, s=30, zorder=3, label=str(arch))
    ax.axhspan(-tolerance_db, tolerance_db, color=STABLE_COLOR, alpha=0.12, lw=0,
               label=f"+-{tolerance_db:g} dB (linear network's claim)")
    ax.axhline(0, color=DATA_COLOR, lw=0.8)
    ax.set(xticks=x, xlim=(-0.6, systems.size - 0.4), ylabel="10 log10(MSE_RNN / MSE_KF) (dB)",
           title="Gap to the steady-state Kalman predictor (test split, every replicate)")
    ax.set_xticklabels([str(s) for s in systems], rotation=20, ha="right")
    ax.legend(fontsize=8)
    return fig


def eigenvalues(ds: xr.Dataset) -> plt.Figure:
    """eig(A - A K C) and the matched learned eigenvalues of every architecture (lowest-validation-loss
    replicate) in the complex plane, one panel per system."""
    set_theme()
    systems = ds["system"].values
    fig, axes = _grid(systems.size)
    theta = np.linspace(0, 2 * np.pi, 200)
    for ax, system in zip(axes, systems):
        s = ds.sel(system=system)
        ax.plot(np.cos(theta), np.sin(theta), color="0.7", lw=0.8)
        kf = s["kf_eigenvalue_real"].values + 1j * s["kf_eigenvalue_imag"].values
        kf = kf[np.isfinite(kf)]
        ax.scatter(kf.real, kf.imag, s=90, facecolors="none", edgecolors=DATA_COLOR, lw=1.2,
                   label="eig(A - A K C)", zorder=2)
        for arch, (color, marker) in zip(ds["arch"].values, _ARCH_STYLE):
            b = best_replicate(s.sel(arch=arch))
            learned = b["matched_eigenvalue_real"].values + 1j * b["matched_eigenvalue_imag"].values
            learned = learned[np.isfinite(learned)]
            ax.scatter(learned.real, learned.imag, s=22, color=color, marker=marker, zorder=3,
                       label=f"{arch} (max err {float(b['eigenvalue_error']):.2g})")
        ax.set(aspect="equal", xlim=(-1.05, 1.05), ylim=(-1.05, 1.05), title=str(system),
               xlabel="Re", ylabel="Im")
        ax.legend(fontsize=7, loc="lower left")
    return fig


def impulse_responses(ds: xr.Dataset) -> plt.Figure:
    """||C W^k U|| of each (linearised) network against the Kalman predictor's, per system."""
    set_theme()
    systems = ds["system"].values
    fig, axes = _grid(systems.size)
    lag = ds["lag"].values
    for ax, system in zip(axes, systems):
        s = ds.sel(system=system)
        ax.plot(lag, s["kf_impulse_norm"], color=DATA_COLOR, lw=2.5, alpha=0.5, label="Kalman predictor")
        for arch, (color, marker) in zip(ds["arch"].values, _ARCH_STYLE):
            b = best_replicate(s.sel(arch=arch))
            ax.plot(lag, b["rnn_impulse_norm"], color=color, marker=marker, ms=3, lw=1,
                    label=f"{arch} (rel. err {float(b['impulse_error']):.2g})")
        ax.set(yscale="log", xlabel="lag k (steps)", ylabel="||C W^k U||_F", title=str(system))
        ax.legend(fontsize=7)
    return fig
