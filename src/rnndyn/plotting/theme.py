"""The one theme every figure of the study uses, and saving to PDF + PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; no display on cluster nodes

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

STABLE_COLOR = "#1b6ca8"
UNSTABLE_COLOR = "#c0392b"
DATA_COLOR = "#2d2d2d"


def set_theme() -> None:
    """Apply the study's seaborn theme (call before building a figure)."""
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.1,
                  rc={"figure.dpi": 110, "savefig.dpi": 200, "axes.titleweight": "bold",
                      "pdf.fonttype": 42})


def save_figure(fig: plt.Figure, *paths: str | Path) -> None:
    """Save ``fig`` to each path (format from the suffix: .pdf, .png) and close it.

    PDF metadata carries no creation date, so the same data give the same file.
    """
    for path in paths:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        metadata = {"CreationDate": None} if path.suffix == ".pdf" else {"Software": None}
        fig.savefig(path, bbox_inches="tight", metadata=metadata)
    plt.close(fig)
