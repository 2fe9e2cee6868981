"""Figure of the flip-flop stage: trajectories and fixed points in the top-3 PCA space."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import xarray as xr
from matplotlib.ticker import MaxNLocator

from rnndyn.analysis.replicates import best_replicate
from rnndyn.plotting.theme import STABLE_COLOR, UNSTABLE_COLOR, set_theme

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def figures_job(job: Job) -> None:
    """Job ``flipflop_figures``: trajectories and fixed points in the top-3 PCA space."""
    job.figure("fixed_points", fixed_points_pca(job.read()))


def fixed_points_pca(ds: xr.Dataset) -> plt.Figure:
    """One 3-D panel per architecture (replicate with the lowest validation loss): test trajectories
    in the top three principal components, stable fixed points labelled with their read-out code,
    saddles as crosses."""
    set_theme()
    archs = ds["arch"].values
    n_cols = min(3, archs.size)  # at most three panels a row: 8 pt text stays 8 pt at the report's width
    n_rows = -(-archs.size // n_cols)
    fig = plt.figure(figsize=(3.0 * n_cols, 3.4 * n_rows), layout="constrained")
    fig.get_layout_engine().set(wspace=0.1)  # room for the z labels, which the layout does not see
    for index, arch in enumerate(archs):
        run = best_replicate(ds.sel(arch=arch))
        ax = fig.add_subplot(n_rows, n_cols, index + 1, projection="3d")
        for trajectory in run["trajectory_pc"].values:
            ax.plot(*trajectory.T, color="0.6", lw=0.5, alpha=0.6)
        unstable = run["fixed_point_n_unstable"].values
        pc = run["fixed_point_pc"].values
        readout = run["fixed_point_readout"].values
        stable = unstable == 0
        ax.scatter(*pc[stable].T, s=60, color=STABLE_COLOR, edgecolors="k", depthshade=False,
                   label=f"stable ({int(stable.sum())})")
        saddle = unstable > 0
        ax.scatter(*pc[saddle].T, s=50, color=UNSTABLE_COLOR, marker="x", depthshade=False,
                   label=f"saddle ({int(saddle.sum())})")
        for point, out in zip(pc[stable], readout[stable]):
            ax.text(*point, " " + "".join("+" if v > 0 else "-" for v in out), fontsize=8)
        # Three ticks an axis and a smaller box: the axis labels stay inside the panel at 8 pt.
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
            axis.set_major_locator(MaxNLocator(3))
        ax.tick_params(labelsize=8, pad=0)
        ax.set_box_aspect(None, zoom=0.85)
        ratio = run["explained_variance"].values
        ax.set(xlabel=f"PC1 ({ratio[0]:.0%})", ylabel=f"PC2 ({ratio[1]:.0%})", zlabel=f"PC3 ({ratio[2]:.0%})",
               title=f"{arch}, replicate {int(run['replicate'])}\naccuracy {float(run['accuracy']):.4f}")
        ax.legend(fontsize=8, loc="upper left")
    return fig
