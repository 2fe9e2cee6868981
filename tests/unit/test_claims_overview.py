"""The claims overview: each rule's normalised deviation and pass band, the order, the figure, the landing page."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from rnndyn.claims import claim_close, claim_holds, claims_table
from rnndyn.plotting.claims import (
    FIGURE_WIDTH,
    band_disagrees,
    landing_html,
    normalised_deviation,
    overview_figure,
    overview_table,
    pass_band,
    read_claims_csv,
    rule_text,
)

# Values exact in binary floating point, so every expected deviation is exact.
ROWS = [
    # (measured, expected, tolerance, criterion, deviation, band)
    (1.5, 1.0, 0.25, "=±tol", 2.0, (-1.0, 1.0)),  # outside ±tol: fails
    (0.75, 1.0, 0.25, "=±tol", -1.0, (-1.0, 1.0)),  # on the edge: passes
    (3.0, 2.0, 0.0, "<=", 0.5, (-math.inf, 0.0)),  # a failed ≤ row, relative to |expected|
    (0.5, 1.0, 0.25, "<=", -2.0, (-math.inf, 1.0)),  # ≤ expected + tolerance
    (-0.5, 0.0, 0.0, ">", -0.5, (0.0, math.inf)),  # expected 0 and no tolerance: the row's unit
    (7.0, 8.0, 0.0, "=", -0.125, (0.0, 0.0)),  # a count one short of 8
    (0.25, 0.0, 0.0, "trend", 0.25, None),  # a trend: no band from the columns
]


@pytest.mark.parametrize("measured, expected, tolerance, criterion, deviation, band", ROWS)
def test_deviation_and_band_of_each_rule(measured, expected, tolerance, criterion, deviation, band):
    assert normalised_deviation(measured, expected, tolerance, criterion) == deviation
    assert pass_band(expected, tolerance, criterion) == band


def test_deviation_of_no_number_and_unknown_rule():
    assert math.isnan(normalised_deviation(math.nan, 1.0, 0.1, "=±tol"))
    assert normalised_deviation(math.inf, 1.0, 0.5, "<=") == math.inf
    with pytest.raises(ValueError, match="criterion"):
        normalised_deviation(1.0, 1.0, 0.1, "~")
    with pytest.raises(ValueError, match="criterion"):
        pass_band(1.0, 0.1, "~")


def test_verdict_against_band():
    # Consistent rows: no ring.
    assert not band_disagrees(0.5, (-1.0, 1.0), passed=True)
    assert not band_disagrees(2.0, (-1.0, 1.0), passed=False)
    assert not band_disagrees(0.5, (-math.inf, 0.0), passed=False)
    # A failed row inside its band (its bound is in the note), a passed one outside it: ringed.
    assert band_disagrees(0.5, (0.0, math.inf), passed=False)
    assert band_disagrees(-0.5, (0.0, math.inf), passed=True)
    # A strict bound excludes its edge: 0 > 0 fails, as its columns say.
    assert not band_disagrees(0.0, (0.0, math.inf), passed=False, strict=True)
    assert band_disagrees(0.0, (0.0, math.inf), passed=False, strict=False)
    # No band (trend) or no number measured: nothing to compare.
    assert not band_disagrees(5.0, None, passed=True)
    assert not band_disagrees(math.nan, (-1.0, 1.0), passed=False)


def _table() -> pd.DataFrame:
    return claims_table([
        claim_close("bistable/pitchfork_w", "pitchfork", kind="theory", measured=1.0, expected=1.0,
                    tolerance=0.005, figure="bistable_bifurcation"),
        claim_holds("euler/spurious_growth", "excess", kind="theory", criterion=">=", measured=0.5, expected=0.0,
                    passed=False, note="bound: 3 standard errors", figure="euler_lorenz_lambda1"),
        claim_close("bistable/fold_boundary_max_error", "fold", kind="identity", measured=0.5, expected=0.0,
                    tolerance=1e-3, figure="bistable_stability_map"),
        claim_holds("flipflop/stable_fixed_points", "count", kind="finding", criterion="=", measured=8, expected=8,
                    passed=True, figure="flipflop_fixed_points"),
        claim_holds("lyapunov-gradient/g_star_approaches_1", "trend", kind="finding", criterion="trend",
                    measured=0.1, expected=0.0, passed=True, figure="chaos_lambda1"),
        claim_close("bistable/h_star_w=2", "h*", kind="theory", measured=math.nan, expected=0.957,
                    tolerance=1e-6, figure="bistable_bifurcation"),
    ])


def test_overview_order_puts_failures_first():
    rows = overview_table(_table())
    # bistable has two failures, euler one: bistable first; in each, the failed rows first in table order.
    assert rows["id"].tolist() == [
        "bistable/fold_boundary_max_error", "bistable/h_star_w=2", "bistable/pitchfork_w",
        "euler/spurious_growth", "flipflop/stable_fixed_points", "lyapunov-gradient/g_star_approaches_1",
    ]
    assert rows["deviation"].iloc[0] == pytest.approx(500.0)
    assert rows.set_index("id")["disagrees"].to_dict() == {
        "bistable/fold_boundary_max_error": False, "bistable/h_star_w=2": False, "bistable/pitchfork_w": False,
        "euler/spurious_growth": True, "flipflop/stable_fixed_points": False,
        "lyapunov-gradient/g_star_approaches_1": False,
    }


def test_rule_text_states_the_rule():
    rows = overview_table(_table()).set_index("id")
    assert rule_text(rows.loc["bistable/pitchfork_w"]) == "1 (1 ± 0.005)"
    assert rule_text(rows.loc["euler/spurious_growth"]) == "0.5 (≥ 0)"
    assert rule_text(rows.loc["bistable/h_star_w=2"]) == "NaN (0.957 ± 1e-06)"
    assert rule_text(rows.loc["lyapunov-gradient/g_star_approaches_1"]) == "0.1 (trend, see note)"


def test_overview_is_readable_at_report_width():
    fig = overview_figure(_table())
    try:
        assert fig.get_size_inches()[0] == FIGURE_WIDTH <= 9.4  # ~900 px in the report: 1 pt shows as >= 1 pt
        sizes = [text.get_fontsize() for text in fig.findobj(plt.Text) if text.get_text().strip()]
        assert min(sizes) >= 8.0
        assert len(fig.axes) >= 4  # one panel per study claim (plus the secondary axes of the rule texts)
    finally:
        plt.close(fig)


def test_csv_round_trip_and_landing_page(tmp_path):
    table = _table()
    table.to_csv(tmp_path / "claims.csv", index=False)
    back = read_claims_csv(tmp_path / "claims.csv")
    assert back["note"].tolist()[0] == "" and back["passed"].dtype == bool
    png = tmp_path / "overview.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    html = landing_html(back, png)
    assert "Claims: 3 passed, 3 FAILED; findings: 2 passed of 2" in html
    assert "<td>euler/spurious_growth</td>" in html and "<td>bistable/pitchfork_w</td>" not in html
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html
