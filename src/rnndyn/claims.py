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
COLUMNS = ("id", "description", "measured", "expected", "tolerance", "unit", "passed", "note")


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
        Anything a reader needs to interpret the row (budget, how many seeds, why it failed).
    """

    id: str
    description: str
    measured: float
    expected: float
    tolerance: float
    unit: str
    passed: bool
    note: str = ""

    def __post_init__(self) -> None:
        match = _ID_PATTERN.match(self.id)
        if match is None or match["claim"] not in STUDY_CLAIM_IDS:
            raise ValueError(
                f"claim id {self.id!r} must be '<claim>/<quantity>' with <claim> one of {STUDY_CLAIM_IDS}"
            )


def claim_close(
    id: str, description: str, *, measured: float, expected: float, tolerance: float,
    unit: str = "1", note: str = "",
) -> Claim:
    """A claim that holds when ``|measured - expected| <= tolerance`` (a NaN measurement fails)."""
    measured = float(measured)
    passed = math.isfinite(measured) and abs(measured - expected) <= tolerance
    return Claim(id, description, measured, float(expected), float(tolerance), unit, bool(passed), note)


def claim_holds(
    id: str, description: str, *, measured: float, expected: float, passed: bool,
    tolerance: float = 0.0, unit: str = "1", note: str = "",
) -> Claim:
    """A claim whose pass criterion is a predicate the caller evaluated (a bound, a count, a sign)."""
    return Claim(id, description, float(measured), float(expected), float(tolerance), unit, bool(passed), note)


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
    """A standalone HTML page of the claims table; failed rows are red and say FAILED."""
    n_failed = int((~table["passed"].astype(bool)).sum())
    rows = []
    for _, row in table.iterrows():
        ok = bool(row["passed"])
        status = "passed" if ok else "FAILED"
        cells = [row["id"], row["description"], _fmt(row["measured"]), _fmt(row["expected"]),
                 _fmt(row["tolerance"]), row["unit"], status, row["note"]]
        tds = "".join(f"<td>{escape(str(c))}</td>" for c in cells)
        rows.append(f'<tr class="{"pass" if ok else "fail"}">{tds}</tr>')
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Claims</title><style>"
        "body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:3px 6px;font-size:13px}tr.pass td:nth-child(7){color:#1a7f37;font-weight:bold}"
        "tr.fail{background:#ffebe9}tr.fail td:nth-child(7){color:#cf222e;font-weight:bold}"
        "</style></head><body>"
        f"<h2>Claims of the study: {len(table) - n_failed} passed, {n_failed} FAILED</h2>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>\n"
    )


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def table_job(job: Job) -> None:
    """Job ``claims_table``: every stage's claims in ``results/claims.csv`` and an HTML table for the report."""
    table = claims_table(claim for path in job.input for claim in read_claims(path))
    table.to_csv(job.output.csv, index=False)
    Path(job.output.html).write_text(claims_html(table))
    failed = table.loc[~table["passed"], "id"].tolist()
    job.log.info("%d claims, %d FAILED%s", len(table), len(failed), f": {', '.join(failed)}" if failed else "")
