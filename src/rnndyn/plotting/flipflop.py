"""Figure of the flip-flop stage: trajectories and fixed points in the top-3 PCA space."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.ticker import MaxNLocator

from rnndyn.analysis.replicates import best_replicate
from rnndyn.plotting.theme import STABLE_COLOR, UNSTABLE_COLOR, set_theme

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def figures_job(job: Job) -> None:
    """Job ``flipflop_figures``: trajectories and fixed points in the top-3 PCA space."""
    job.figure("fixed_points", fixed_points_pca(job.read()))


# Half-length of a drawn unstable direction, as a fraction of the median distance between neighbouring
# stable points in the panel: long enough to see its heading, short enough not to reach the memories.
SEGMENT_FRACTION = 0.3


def fixed_points_pca(ds: xr.Dataset) -> plt.Figure:
    """One 3-D panel per architecture (replicate with the lowest validation loss): test trajectories
    in the top three principal components, stable fixed points labelled with their read-out code,
    saddles with one unstable direction as crosses with that direction drawn as a segment (Sussillo &
    Barak 2013, Fig. 3), saddles with more as small diamonds."""
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
        saddle = unstable == 1
        ax.scatter(*pc[saddle].T, s=50, color=UNSTABLE_COLOR, marker="x", depthshade=False,
                   label=f"1 unstable dir. ({int(saddle.sum())})")
        higher = unstable > 1
        ax.scatter(*pc[higher].T, s=14, color="0.3", marker="D", depthshade=False,
                   label=f"2+ unstable dir. ({int(higher.sum())})")
        half = SEGMENT_FRACTION * _neighbour_distance(pc[stable])
        for point, direction in zip(pc[saddle], run["fixed_point_direction_pc"].values[saddle]):
            ax.plot(*np.stack([point - half * direction, point + half * direction]).T, color=UNSTABLE_COLOR, lw=1.5)
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


def _neighbour_distance(points: np.ndarray) -> float:
    """Median distance from each of the points (K, 3) to its nearest other one (1 with fewer than two)."""
    if len(points) < 2:
        return 1.0
    distance = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(distance, np.inf)
    return float(np.median(distance.min(axis=1)))
