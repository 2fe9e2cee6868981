"""The claims overview: every claim of ``results/claims.csv`` on one figure, the claims page, and the
summary the report's landing page opens on.

Each claim is drawn at its deviation from the expected value in units of its rule's scale
(:func:`normalised_deviation`), beside the band of deviations its rule accepts (:func:`pass_band`),
so that rows measured in different units and judged by different rules share one axis.
"""

from __future__ import annotations

import base64
import math
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import NullLocator

from rnndyn.claims import CRITERIA, STUDY_CLAIM_IDS, claims_html, summary_line
from rnndyn.plotting.theme import STABLE_COLOR, UNSTABLE_COLOR, set_theme

if TYPE_CHECKING:
    from rnndyn.jobs import Job

FIGURE_WIDTH = 9.0
"""Inches: at the report's ~900 px, 8.5 pt text shows at about 8.9 pt."""
OVERVIEW_DPI = 120
"""1,080 px for 9 in: the landing page shows it at its own size, and a tall figure takes a third of the bytes
it would at the house 200 dpi."""
DEVIATION_LIMIT = 1e3
"""Deviations beyond ± this many scale units are drawn at the axis edge as triangles."""
KIND_MARKERS = {"identity": "s", "theory": "o", "finding": "D"}
BAND_COLOR = "#b7dfb9"
EXACT_BAND_COLOR = "#3c8d40"
"""An exact rule's band is one value: a short dark-green tick."""
_ROW_HEIGHT = 0.2  # inches per claim: 8-9 pt labels without overlap
_GROUP_HEIGHT = 0.5  # inches per group for its title and the gap above it
_TEXT_COLUMNS = ("description", "unit", "note", "figure")
_RULE_SYMBOL = {"<=": "≤", "<": "<", ">=": "≥", ">": ">"}


def rule_scale(expected: float, tolerance: float) -> float:
    """The unit a claim's deviation is counted in: its tolerance if it has one, else ``|expected|``
    (a relative deviation), else 1 (the row's own unit)."""
    if tolerance > 0:
        return float(tolerance)
    if expected != 0 and math.isfinite(expected):
        return abs(float(expected))
    return 1.0


def normalised_deviation(measured: float, expected: float, tolerance: float, criterion: str) -> float:
    """Signed deviation of a claim from its expected value, ``(measured − expected) / scale``.

    Parameters
    ----------
    measured, expected, tolerance
        The claim's columns (same unit).
    criterion
        The claim's rule (one of :data:`rnndyn.claims.CRITERIA`). It does not change the
        deviation, only the band of deviations that pass (:func:`pass_band`); it is taken here so
        that every caller names the rule it plots.

    Returns
    -------
    float
        Dimensionless; the scale is :func:`rule_scale`. NaN for a measurement that is not a
        number, ±inf for an infinite one.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}")
    if math.isnan(measured):
        return math.nan
    return (float(measured) - float(expected)) / rule_scale(expected, tolerance)


def pass_band(expected: float, tolerance: float, criterion: str) -> tuple[float, float] | None:
    """The deviations (:func:`normalised_deviation`) a claim's rule accepts, as ``(low, high)``.

    ``=±tol``: ``[−1, 1]`` (``[0, 0]`` without a tolerance); ``=``: ``[0, 0]``; ``<=``/``<``:
    up to the tolerance, ``(−inf, tol / scale]``; ``>=``/``>``: ``[−tol / scale, inf)``; ``trend``:
    ``None``, the rule compares values across a sweep that the row's columns do not hold.
    """
    slack = tolerance / rule_scale(expected, tolerance) if tolerance > 0 else 0.0
    if criterion == "=±tol":
        return (-slack, slack)
    if criterion == "=":
        return (0.0, 0.0)
    if criterion in ("<=", "<"):
        return (-math.inf, slack)
    if criterion in (">=", ">"):
        return (-slack, math.inf)
    if criterion == "trend":
        return None
    raise ValueError(f"unknown criterion {criterion!r}")


def band_disagrees(deviation: float, band: tuple[float, float] | None, passed: bool, *, strict: bool = False) -> bool:
    """Whether a row's verdict differs from what its columns imply: a passed row outside its band,
    or a failed finite row inside it (its rule then has a bound that only its note states).

    ``strict`` excludes the band's edges (the rules ``<`` and ``>``). Always ``False`` for a trend row
    (no band) and for a failed row that measured no number.
    """
    if band is None or math.isnan(deviation):
        return False
    low, high = band
    inside = (low < deviation < high) if strict else (low <= deviation <= high)
    return inside != bool(passed)


def read_claims_csv(path: str | Path) -> pd.DataFrame:
    """``results/claims.csv`` as written by the claims table (empty text cells as ``""``)."""
    table = pd.read_csv(path)
    for column in _TEXT_COLUMNS:
        table[column] = table[column].fillna("").astype(str)
    table["passed"] = table["passed"].astype(bool)
    return table


def overview_table(table: pd.DataFrame) -> pd.DataFrame:
    """The claims in the overview's order, with the columns it draws.

    Rows are grouped by study claim (the id's part before ``/``); groups with more failed claims
    come first (then in the order of :data:`rnndyn.claims.STUDY_CLAIM_IDS`), and within a group the
    failed claims come first, each part in the table's order.

    Returns
    -------
    pandas.DataFrame
        The input columns plus ``claim``, ``quantity``, ``deviation`` and ``band_low`` /
        ``band_high`` (NaN for a trend row) and ``disagrees`` (:func:`band_disagrees`).
    """
    out = table.copy()
    out["claim"] = out["id"].str.split("/", n=1).str[0]
    out["quantity"] = out["id"].str.split("/", n=1).str[1]
    out["deviation"] = [normalised_deviation(m, e, t, c) for m, e, t, c in
                        zip(out["measured"], out["expected"], out["tolerance"], out["criterion"])]
    bands = [pass_band(e, t, c) for e, t, c in zip(out["expected"], out["tolerance"], out["criterion"])]
    out["band_low"] = [math.nan if b is None else b[0] for b in bands]
    out["band_high"] = [math.nan if b is None else b[1] for b in bands]
    out["disagrees"] = [band_disagrees(d, b, p, strict=c in ("<", ">"))
                        for d, b, p, c in zip(out["deviation"], bands, out["passed"], out["criterion"])]
    failed_in_claim = (~out["passed"]).groupby(out["claim"]).transform("sum")
    study_order = out["claim"].map({c: i for i, c in enumerate(STUDY_CLAIM_IDS)})
    out["_row"] = np.arange(len(out))
    out = out.assign(_failed=-failed_in_claim, _study=study_order, _pass=out["passed"].astype(int))
    out = out.sort_values(["_failed", "_study", "_pass", "_row"], kind="stable")
    return out.drop(columns=["_failed", "_study", "_pass", "_row"]).reset_index(drop=True)


def rule_text(row: pd.Series) -> str:
    """The measured value and the rule it is judged by, e.g. ``0.549 (≤ 1 + 2.8e-12)``."""
    measured, expected, tolerance = row["measured"], row["expected"], row["tolerance"]
    criterion = row["criterion"]
    value = "NaN" if math.isnan(measured) else f"{measured:.3g}"
    if criterion == "=±tol":
        rule = f"{expected:.3g} ± {tolerance:.2g}"
    elif criterion == "=":
        rule = f"= {expected:.3g}"
    elif criterion in _RULE_SYMBOL:
        slack = ""
        if tolerance > 0:
            slack = f" + {tolerance:.2g}" if criterion in ("<=", "<") else f" − {tolerance:.2g}"
        rule = f"{_RULE_SYMBOL[criterion]} {expected:.3g}{slack}"
    else:
        rule = "trend, see note"
    return f"{value} ({rule})"


def _stage_of(figures: pd.Series) -> str:
    """The stage of a group of claims: the first word of the figures its rows name."""
    stages = figures[figures != ""].str.split("_", n=1).str[0]
    return stages.mode().iloc[0] if len(stages) else ""


def overview_figure(table: pd.DataFrame) -> plt.Figure:
    """Every claim at its normalised deviation, one panel per study claim, the pass bands shaded.

    Parameters
    ----------
    table
        The claims table (the columns of ``results/claims.csv``).

    Returns
    -------
    matplotlib.figure.Figure
        :data:`FIGURE_WIDTH` wide, ``0.2`` in per claim; x axis symmetric-log,
        linear within one scale unit of the expected value.
    """
    set_theme()
    rows = overview_table(table)
    groups = list(dict.fromkeys(rows["claim"]))
    sizes = [int((rows["claim"] == g).sum()) for g in groups]
    height = _ROW_HEIGHT * len(rows) + _GROUP_HEIGHT * len(groups) + 1.4
    # Not sharex: shared axes measure each other's tick labels at every draw, quadratic in the panels.
    fig, axes = plt.subplots(len(groups), 1, figsize=(FIGURE_WIDTH, height), squeeze=False,
                             gridspec_kw={"height_ratios": [n + 1.2 for n in sizes], "hspace": 0.0},
                             layout="constrained")
    ticks = [-1e3, -30, -1, 0, 1, 30, 1e3]
    for ax, group in zip(axes[:, 0], groups):
        _draw_group(ax, rows[rows["claim"] == group], group)
        ax.set_xscale("symlog", linthresh=1.0, linscale=1.0)
        ax.set_xlim(-DEVIATION_LIMIT * 1.6, DEVIATION_LIMIT * 1.6)
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.tick_params(axis="x", labelbottom=False)
    top, bottom = axes[0, 0], axes[-1, 0]
    bottom.tick_params(axis="x", labelbottom=True)
    bottom.set_xlabel("(measured − expected) / scale   [scale: tolerance, else |expected|, else 1]")
    top.tick_params(axis="x", labeltop=True, top=True)
    # Column-major fill of two rows: the kinds (and the ring) above, the colours below.
    handles = [
        Line2D([], [], ls="", marker=KIND_MARKERS["identity"], mfc="none", mec="0.2", label="identity"),
        Patch(color=STABLE_COLOR, label="passed"),
        Line2D([], [], ls="", marker=KIND_MARKERS["theory"], color="0.2", label="theory"),
        Patch(color=UNSTABLE_COLOR, label="FAILED"),
        Line2D([], [], ls="", marker=KIND_MARKERS["finding"], color="0.2", label="finding"),
        Patch(color=BAND_COLOR, label="pass band"),
        Line2D([], [], ls="", marker="o", ms=11, mfc="none", mec="0.2", label="verdict not from columns"),
    ]
    fig.legend(handles=handles, loc="outside upper center", ncol=4, fontsize=8.5, frameon=False,
               title=f"Claims: {summary_line(table)}", title_fontproperties={"size": 11, "weight": "bold"})
    return fig


def _draw_group(ax: plt.Axes, rows: pd.DataFrame, claim: str) -> None:
    """One study claim's rows: pass bands, markers by kind and verdict, labels and rule texts."""
    y = -np.arange(len(rows), dtype=float)
    limit = DEVIATION_LIMIT
    for yi, (_, row) in zip(y, rows.iterrows()):
        if not math.isnan(row["band_low"]):
            low, high = max(row["band_low"], -limit * 1.6), min(row["band_high"], limit * 1.6)
            if high > low:
                ax.fill_betweenx([yi - 0.4, yi + 0.4], low, high, color=BAND_COLOR, lw=0, zorder=0)
            else:  # an exact rule: the band is the one value
                ax.plot([low, low], [yi - 0.4, yi + 0.4], color=EXACT_BAND_COLOR, lw=2.0, zorder=1)
        color = STABLE_COLOR if row["passed"] else UNSTABLE_COLOR
        deviation = row["deviation"]
        marker = KIND_MARKERS[row["kind"]]
        if math.isnan(deviation):  # no number measured: a cross at the right edge
            x, marker = limit * 1.3, "X"
        elif abs(deviation) > limit:
            x, marker = math.copysign(limit * 1.3, deviation), ">" if deviation > 0 else "<"
        else:
            x = deviation
        hollow = row["kind"] == "identity" and marker == KIND_MARKERS["identity"]
        ax.plot(x, yi, ls="", marker=marker, ms=6, mec=color, mfc="white" if hollow else color, mew=1.3, zorder=3)
        if row["disagrees"]:
            ax.plot(x, yi, ls="", marker="o", ms=12, mfc="none", mec="0.2", mew=0.9, zorder=4)
    ax.axvline(0.0, color="0.35", lw=0.8, zorder=1)
    # Labels as texts beside the axes, not as ticks: a tick is five artists, and there are hundreds.
    ax.set_yticks([])
    beside = ax.get_yaxis_transform()
    for yi, (_, row) in zip(y, rows.iterrows()):
        ok = bool(row["passed"])
        ax.text(-0.015, yi, ("" if ok else "✗ ") + row["quantity"], transform=beside, ha="right", va="center",
                fontsize=8.5, color="0.15" if ok else UNSTABLE_COLOR, fontweight="normal" if ok else "bold")
        ax.text(1.015, yi, rule_text(row), transform=beside, ha="left", va="center", fontsize=8.5, color="0.15")
    ax.set_ylim(y[-1] - 0.7, 0.9)
    ax.grid(axis="y", visible=False)
    stage = _stage_of(rows["figure"])
    failed = int((~rows["passed"]).sum())
    where = claim + (f"  (stage {stage})" if stage and stage != claim else "")
    verdict = f"{failed} FAILED of {len(rows)}" if failed else f"all {len(rows)} passed"
    ax.set_title(f"{where}:  {verdict}", loc="left", fontsize=9.5, color=UNSTABLE_COLOR if failed else "0.15")


def quantize_png(path: str | Path, colors: int = 64) -> None:
    """Rewrite a PNG with a palette of ``colors`` colours: the overview has a handful of colours and
    their anti-aliased edges, and its bytes are embedded twice in the one-file report (as a result and
    on the landing page); 64 colours take about a third of the bytes with no visible change."""
    from PIL import Image  # matplotlib's own dependency

    path = Path(path)
    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(colors=colors)
    palette.save(path, optimize=True)


def _png_data_uri(path: str | Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def landing_html(table: pd.DataFrame, overview_png: str | Path) -> str:
    """The HTML fragment the report's landing page opens on (``workflow/report/workflow.rst`` reads it).

    The summary line, the failed claims in a short table (folded), and the overview figure (embedded, so
    that the one-file report needs nothing beside it). A ``<style>`` lets the fragment use the full
    width of the landing page, where Snakemake's report otherwise keeps its description to a narrow
    column beside the rule graph; it only matches the element holding this fragment.
    """
    failed = table[~table["passed"]]
    rows = "".join(
        f"<tr><td>{escape(r['id'])}</td><td>{escape(r['kind'])}</td><td>{escape(rule_text(r))}</td>"
        f"<td>{escape(r['figure'] or '–')}</td></tr>" for _, r in failed.iterrows())
    # Folded: the figure below shows the same failures first, and stays on the first screen however many fail.
    failed_table = (
        f"<details><summary>The {len(failed)} FAILED claims, listed</summary>"
        "<table><thead><tr><th>FAILED claim</th><th>kind</th><th>measured (rule)</th><th>figure</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></details>" if len(failed) else "<p>No claim failed.</p>")
    return (
        "<style>"
        ".prose:has(#claims-landing){max-width:none}"
        "div.flex:has(> div > .prose #claims-landing){flex-wrap:wrap}"
        "div.items-center:has(#claims-landing){align-items:flex-start}"
        "#claims-landing img{width:100%;max-width:1100px;height:auto}"
        "#claims-landing table{font-size:12px}"
        "#claims-landing td:first-child{color:#cf222e;font-weight:bold;white-space:nowrap}"
        "#claims-landing summary{cursor:pointer;color:#cf222e;font-weight:bold}"
        "</style>"
        '<div id="claims-landing">'
        f"<h1>Claims: {escape(summary_line(table))}</h1>"
        f"{failed_table}"
        "<p>Where each expected value and tolerance come from, and why a claim failed: the notes of the full "
        "table. Below: every claim, the panels with failures first.</p>"
        f'<img src="{_png_data_uri(overview_png)}" alt="overview of every claim: deviation from the expected '
        'value in units of its rule\'s scale">'
        "</div>\n"
    )


def figures_job(job: Job) -> None:
    """Job ``claims_figures``: the overview of every claim, the claims page and the landing summary."""
    table = read_claims_csv(job.input[0])
    rows = overview_table(table)
    for _, row in rows[rows["disagrees"]].iterrows():
        job.log.warning("%s: verdict %s is not what its expected/tolerance columns imply under rule %s (see its "
                        "note)", row["id"], "passed" if row["passed"] else "FAILED", row["criterion"])
    figure = overview_figure(table)
    with plt.rc_context({"savefig.dpi": OVERVIEW_DPI}):  # after the theme, which sets its own
        job.figure("overview", figure)
    quantize_png(job.output.overview_png)
    Path(job.output.html).write_text(claims_html(table))
    Path(job.output.landing).write_text(landing_html(table, job.output.overview_png))
    job.log.info("%d claims: %s", len(table), summary_line(table))
