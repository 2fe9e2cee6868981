"""Claim records and the claims table."""

from __future__ import annotations

import math

import pytest

from rnndyn.claims import claim_close, claim_holds, claims_html, claims_table, read_claims, write_claims


def test_claim_close_passes_inside_and_fails_outside_tolerance():
    assert claim_close("bistable/pitchfork_w", "d", measured=1.004, expected=1.0, tolerance=0.005, kind="theory").passed
    assert not claim_close("bistable/pitchfork_w", "d", measured=1.006, expected=1.0, tolerance=0.005, kind="theory").passed
    assert not claim_close("bistable/pitchfork_w", "d", measured=math.nan, expected=1.0, tolerance=1e9, kind="theory").passed
    assert not claim_close("bistable/pitchfork_w", "d", measured=math.inf, expected=1.0, tolerance=1e9, kind="theory").passed


@pytest.mark.parametrize("bad_id", ["pitchfork_w", "unknown-claim/x", "bistable/", "bistable/has space"])
def test_claim_id_must_trace_to_a_study_claim(bad_id):
    with pytest.raises(ValueError, match="claim id"):
        claim_close(bad_id, "d", measured=1.0, expected=1.0, tolerance=0.0, kind="theory")


def test_round_trip_keeps_nan_and_failed_claims(tmp_path):
    claims = [
        claim_close("bistable/pitchfork_w", "located", measured=1.0, expected=1.0, tolerance=0.005, unit="1",
                    kind="theory"),
        claim_holds("takens/h1_bars", "bars", measured=math.nan, expected=2, passed=False, note="diverged",
                    kind="finding", criterion="="),
    ]
    write_claims(claims, tmp_path / "c.json")
    back = read_claims(tmp_path / "c.json")
    assert back[0] == claims[0]
    assert math.isnan(back[1].measured) and back[1].passed is False and back[1].note == "diverged"


def test_table_has_the_csv_columns_and_rejects_duplicates():
    c = claim_close("bistable/pitchfork_w", "d", measured=1.0, expected=1.0, tolerance=0.1, kind="theory",
                    figure="bistable_bifurcation")
    table = claims_table([c])
    assert list(table.columns[:4]) == ["id", "kind", "criterion", "description"] and "passed" in table.columns
    assert table.loc[0, "criterion"] == "=±tol" and table.loc[0, "figure"] == "bistable_bifurcation"
    with pytest.raises(ValueError, match="duplicate"):
        claims_table([c, c])


def test_html_marks_failed_rows():
    ok = claim_close("bistable/pitchfork_w", "d", measured=1.0, expected=1.0, tolerance=0.1, kind="theory")
    bad = claim_close("bistable/fold_boundary_max_error", "d", measured=0.5, expected=0.0, tolerance=1e-3,
                      kind="identity")
    found = claim_holds("flipflop/x", "d", measured=8, expected=8, passed=True, kind="finding", criterion="=")
    html = claims_html(claims_table([ok, bad, found]))
    assert "2 passed, 1 FAILED; findings: 1 passed of 1" in html
    assert '<tr class="fail"><td>bistable/fold_boundary_max_error' in html


@pytest.mark.parametrize("field, value", [("kind", "guess"), ("kind", ""), ("criterion", "~"), ("criterion", "")])
def test_every_claim_says_its_kind_and_rule(field, value):
    arguments = {"kind": "theory", "criterion": "<=", field: value}
    with pytest.raises(ValueError, match=field):
        claim_holds("bistable/x", "d", measured=1.0, expected=1.0, passed=True, **arguments)
