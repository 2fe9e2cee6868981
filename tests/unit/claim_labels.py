"""The stages' tests share one check: every claim says its kind, its rule, its figure and its note."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

from rnndyn.claims import CRITERIA, KINDS, Claim

RULES = Path(__file__).parents[2] / "workflow" / "rules"


def stage_figures(stage: str) -> list[str]:
    """``STAGE_FIGURES["<stage>"]`` as the stage's rule file declares it."""
    text = (RULES / f"{stage}.smk").read_text()
    return ast.literal_eval(re.search(rf'^STAGE_FIGURES\["{stage}"\] = (\[.*?\])$', text, re.M | re.S)[1])


def assert_labelled(claims: Iterable[Claim], stage: str) -> None:
    """Every claim says its kind and rule, names one of the stage's figures (or none) and has a note;
    a finding's note says over how many replicates it was judged."""
    claims, figures = list(claims), stage_figures(stage)
    assert claims
    for c in claims:
        assert c.kind in KINDS and c.criterion in CRITERIA, c.id
        assert c.figure in (*figures, ""), c.id
        assert c.note, c.id
        if c.kind == "finding":
            assert "replicate" in c.note, c.id
