"""Claim records: one number the study measured, beside the number theory or the literature expects.

An analysis emits claims; a final step gathers them into ``results/claims.csv`` and an HTML table
for the report. A claim id is ``<claim id in STUDY.md>/<quantity>`` (e.g. ``bistable/pitchfork_w``),
so every row traces back to a claim of the study. A failed claim is a finding and is reported as
``FAILED``, never dropped.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # pandas is imported by the claims-table job only, not by every job that writes claims
    import pandas as pd

    from rnndyn.jobs import Job

STUDY_CLAIM_IDS = (
    "memory", "linear-fixed-point", "bistable", "flipflop", "euler", "lyapunov-gradient",
    "taming", "takens", "rnn-lyapunov", "dsr-metrics", "kalman",
)
_ID_PATTERN = re.compile(r"^(?P<claim>[a-z0-9-]+)/(?P<quantity>[A-Za-z0-9_.\-/=]+)$")
N_STANDARD_ERRORS = 3.0
"""Tolerance of a claim judged against a reference by a batch mean: this many standard errors of the
mean (a true claim fails by chance about 0.3 % of the time)."""
KINDS = ("identity", "theory", "finding")
"""What a claim is: ``identity`` holds by construction (a check of the code, not a result);
``theory`` is measured against an analytic or published value; ``finding`` is an empirical result
over replicates, judged on an interval."""
CRITERIA = ("=±tol", "=", "<=", ">=", "<", ">", "trend")
"""The rule a claim applies: ``|measured − expected| <= tolerance``; exact equality (a count);
``measured <= expected``; ``measured >= expected``; the strict bounds; a monotone trend over a sweep
(``measured`` is its summary statistic, ``expected`` the value the trend must pass)."""
COLUMNS = ("id", "kind", "criterion", "description", "measured", "expected", "tolerance", "unit", "passed",
           "figure", "note")


@dataclass(frozen=True)
class Claim:
    """One checked number.

    Attributes
    ----------
    id
        ``<study claim id>/<quantity>``.
    description
        What was measured, in a sentence.
    measured, expected
        The measured value and the reference value (theory or literature).
    tolerance
        The largest accepted ``|measured - expected|``; ``0`` means exact (``passed`` may still be
        set by a predicate other than closeness, see :func:`claim_holds`).
    unit
        Unit of ``measured`` / ``expected`` (``"1"`` for dimensionless).
    passed
        Whether the claim holds.
    note
        Anything a reader needs to interpret the row: where the expected value and the tolerance
        come from (derived, published, or our declared choice), the budget, why it failed.
    kind
        One of :data:`KINDS`.
    criterion
        One of :data:`CRITERIA`.
    figure
        The figure (a name under ``results/figures/``) where the row can be seen, or ``""``.
    """

    id: str
    description: str
    measured: float
    expected: float
    tolerance: float
    unit: str
    passed: bool
    note: str = ""
    kind: str = ""
    criterion: str = ""
    figure: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.criterion not in CRITERIA:
            raise ValueError(f"claim {self.id!r}: criterion {self.criterion!r} is not one of {CRITERIA}")
        match = _ID_PATTERN.match(self.id)
        if match is None or match["claim"] not in STUDY_CLAIM_IDS:
            raise ValueError(
                f"claim id {self.id!r} must be '<claim>/<quantity>' with <claim> one of {STUDY_CLAIM_IDS}"
            )


def claim_close(
    id: str, description: str, *, kind: str, measured: float, expected: float, tolerance: float,
    unit: str = "1", note: str = "", figure: str = "",
) -> Claim:
    """A claim that holds when ``|measured - expected| <= tolerance`` (criterion ``=±tol``; a NaN
    measurement fails)."""
    measured = float(measured)
    passed = math.isfinite(measured) and abs(measured - expected) <= tolerance
    return Claim(id, description, measured, float(expected), float(tolerance), unit, bool(passed), note,
                 kind=kind, criterion="=±tol", figure=figure)


def claim_holds(
    id: str, description: str, *, kind: str, criterion: str, measured: float, expected: float, passed: bool,
    tolerance: float = 0.0, unit: str = "1", note: str = "", figure: str = "",
) -> Claim:
    """A claim whose rule (``criterion``: a bound, a count, a trend) the caller evaluated into ``passed``."""
    return Claim(id, description, float(measured), float(expected), float(tolerance), unit, bool(passed), note,
                 kind=kind, criterion=criterion, figure=figure)


def summary_line(table: pd.DataFrame) -> str:
    """"N passed, M FAILED; findings: a passed of b" for a claims table."""
    passed = table["passed"].astype(bool)
    findings = table["kind"] == "finding"
    return (f"{int(passed.sum())} passed, {int((~passed).sum())} FAILED; "
            f"findings: {int((passed & findings).sum())} passed of {int(findings.sum())}")


def write_claims(claims: Iterable[Claim], path: str | Path) -> None:
    """Write one analysis's claims as JSON (a list of records)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    records = [asdict(c) for c in claims]
    tmp = path.with_name(f".{path.name}.tmp")
    # Python's json writes NaN/Infinity (a diverged run's measurement) and reads them back.
    tmp.write_text(json.dumps(records, indent=2) + "\n")
    tmp.replace(path)


def read_claims(path: str | Path) -> list[Claim]:
    """Read claims written by :func:`write_claims`."""
    records = json.loads(Path(path).read_text())
    return [Claim(**r) for r in records]


def claims_table(claims: Iterable[Claim]) -> pd.DataFrame:
    """All claims as a table with the columns of ``results/claims.csv``, in the given order."""
    import pandas as pd

    table = pd.DataFrame([asdict(c) for c in claims], columns=list(COLUMNS))
    duplicated = table["id"][table["id"].duplicated()]
    if len(duplicated):
        raise ValueError(f"duplicate claim ids: {sorted(set(duplicated))}")
    return table


def claims_html(table: pd.DataFrame) -> str:
    """A standalone HTML page of the claims table: failed rows first, in red, saying FAILED.

    A dimensionless unit shows as "–" (not "1", which reads as a value), and so does the tolerance
    of a rule that has none (a bound, a count, a trend with tolerance 0).
    """
    order = sorted(range(len(table)), key=lambda i: bool(table["passed"].iloc[i]))  # stable: failed first
    rows = []
    for _, row in table.iloc[order].iterrows():
        ok = bool(row["passed"])
        status = "passed" if ok else "FAILED"
        no_tolerance = row["tolerance"] == 0 and row["criterion"] != "=±tol"
        cells = [row["id"], row["kind"], row["criterion"], row["description"], _fmt(row["measured"]),
                 _fmt(row["expected"]), "–" if no_tolerance else f"{row['tolerance']:.3g}",
                 "–" if row["unit"] == "1" else row["unit"], status, row["figure"], row["note"]]
        tds = "".join(f"<td>{escape(str(c))}</td>" for c in cells)
        rows.append(f'<tr class="{"pass" if ok else "fail"}">{tds}</tr>')
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Claims</title><style>"
        "body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:3px 6px;font-size:13px;vertical-align:top}th{position:sticky;top:0;background:#f6f8fa}"
        "td:first-child{white-space:nowrap}td:nth-child(4){min-width:16em}td:last-child{min-width:32em}"
        "tr.pass td:nth-child(9){color:#1a7f37;font-weight:bold}"
        "tr.fail{background:#ffebe9}tr.fail td:nth-child(9){color:#cf222e;font-weight:bold}"
        "</style></head><body>"
        f"<h2>Claims of the study: {escape(summary_line(table))}</h2>"
        "<p>Kind: <b>identity</b> holds by construction (a check of the code), <b>theory</b> is measured "
        "against an analytic or published value, <b>finding</b> is an empirical result over replicates. "
        "Criterion: <b>=±tol</b> |measured − expected| ≤ tolerance; <b>=</b> exact; <b>&lt;=</b>, "
        "<b>&gt;=</b>, <b>&lt;</b>, <b>&gt;</b> a bound (expected, widened by the tolerance where there is "
        "one); <b>trend</b> a monotone change over a sweep (the note gives both ends). Failed claims come "
        "first.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>\n"
    )


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def table_job(job: Job) -> None:
    """Job ``claims_table``: every stage's claims in ``results/claims.csv`` (drawn, and rendered as HTML
    for the report, by ``claims_figures``)."""
    table = claims_table(claim for path in job.input for claim in read_claims(path))
    table.to_csv(job.output.csv, index=False)
    failed = table.loc[~table["passed"], "id"].tolist()
    job.log.info("%d claims: %s%s", len(table), summary_line(table), f" ({', '.join(failed)})" if failed else "")
