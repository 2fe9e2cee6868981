"""Bifurcation analysis of the bistable neuron against exact values (STUDY.md, claim `bistable`)."""

from __future__ import annotations


import numpy as np
import pytest
from scipy.optimize import brentq

from rnndyn.analysis.bifurcation import (
    bistable_fixed_points,
    bistable_multiplier,
    fold_boundary_formula,
    locate_fold,
    locate_pitchfork,
    scalar_fixed_points,
)
from rnndyn.stages import bistable as stage
from tests.unit.claim_labels import assert_labelled

W_REF = np.array([1.1, 1.5, 2.0, 3.0])


def test_h_star_at_the_reference_weights_matches_an_independent_root_solve():
    roots = bistable_fixed_points(W_REF, np.zeros(4))
    exact = [brentq(lambda h, w=w: np.tanh(w * h) - h, 1e-3, 1.0, xtol=1e-15) for w in W_REF]
    np.testing.assert_allclose(roots[:, 2], exact, rtol=0, atol=1e-13)  # bisection to float64 resolution
    np.testing.assert_allclose(roots[:, 0], -np.asarray(exact), rtol=0, atol=1e-13)  # odd symmetry at b = 0
    np.testing.assert_allclose(roots[:, 1], 0.0, atol=1e-13)
    # STUDY.md's three-decimal values: 0.503, 0.859, 0.958, 0.995.
    np.testing.assert_allclose(roots[:, 2], [0.503, 0.859, 0.958, 0.995], atol=5e-4)


def test_stability_from_the_derivative():
    roots = bistable_fixed_points(np.array([2.0]), np.array([0.0]))[0]
    mult = bistable_multiplier(roots, 2.0)
    assert mult[1] == pytest.approx(2.0)  # the origin: f'(0) = w
    assert np.all(np.abs(mult[[0, 2]]) < 1)  # the outer pair is stable


def test_pitchfork_is_at_w_equal_one():
    assert locate_pitchfork(np.linspace(0.5, 3.0, 26)) == pytest.approx(1.0, abs=1e-6)
    assert np.isfinite(bistable_fixed_points(np.array([0.999]), np.array([0.0]))).sum() == 1
    assert np.isfinite(bistable_fixed_points(np.array([1.001]), np.array([0.0]))).sum() == 3


def test_fold_boundary_matches_the_tangency_formula():
    w = np.linspace(1.02, 3.0, 12)
    np.testing.assert_allclose(locate_fold(w), fold_boundary_formula(w), rtol=0, atol=1e-9)
    # STUDY.md: |b_c| = 0.020, 0.208, 0.533, 1.303 at w = 1.1, 1.5, 2, 3 (three decimals).
    np.testing.assert_allclose(fold_boundary_formula(W_REF), [0.020, 0.208, 0.533, 1.303], atol=5e-4)
    assert np.isnan(fold_boundary_formula(0.9))


def test_both_merging_roots_are_found_just_inside_the_fold():
    w = 2.0
    b = float(fold_boundary_formula(w)) - 1e-6
    roots = bistable_fixed_points(np.array([w]), np.array([b]))[0]
    assert np.isfinite(roots).sum() == 3
    assert roots[1] - roots[0] < 0.01  # the saddle-node pair, almost merged


def test_scalar_fixed_points_of_a_cubic_map():
    # f(h) = h + (h - a)(h - b)(h - c)/k has fixed points exactly at a, b, c.
    a, b, c = -0.7, 0.1, 0.55
    f = lambda h: h + (h - a) * (h - b) * (h - c) / 4  # noqa: E731
    df = lambda h: 1 + ((h - b) * (h - c) + (h - a) * (h - c) + (h - a) * (h - b)) / 4  # noqa: E731
    roots = scalar_fixed_points(f, df, lo=-1.0, hi=1.0, n_grid=201, max_roots=3)
    np.testing.assert_allclose(roots[0], [a, b, c], atol=1e-14)


def test_stage_claims_all_pass_on_a_small_grid():
    cfg = {"w": {"start": 0.5, "stop": 3.0, "num": 11}, "b": {"start": -1.5, "stop": 1.5, "num": 11},
           "h0": {"start": -1.0, "stop": 1.0, "num": 6}, "n_steps": 500}
    analysis = {"n_grid": 401, "w_fine": {"start": 0.5, "stop": 3.0, "num": 51},
                "b_fine": {"start": -1.5, "stop": 1.5, "num": 31}, "hyperbolic_margin": 0.05, "end_state_tol": 1e-6}
    claims = stage.claims(stage.analyse(stage.trajectories(cfg), analysis))
    assert {c.id for c in claims} >= {"bistable/pitchfork_w", "bistable/fold_boundary_max_error",
                                     "bistable/h_star_w=2", "bistable/b_c_w=3"}
    assert [c.id for c in claims if not c.passed] == []


def test_every_claim_says_its_kind_rule_and_figure():
    cfg = {"w": {"start": 0.5, "stop": 3.0, "num": 11}, "b": {"start": -1.5, "stop": 1.5, "num": 11},
           "h0": {"start": -1.0, "stop": 1.0, "num": 6}, "n_steps": 500}
    analysis = {"n_grid": 401, "w_fine": {"start": 0.5, "stop": 3.0, "num": 51},
                "b_fine": {"start": -1.5, "stop": 1.5, "num": 31}, "hyperbolic_margin": 0.05, "end_state_tol": 1e-6}
    claims = stage.claims(stage.analyse(stage.trajectories(cfg), analysis))
    assert_labelled(claims, "bistable")
    by_id = {c.id: c for c in claims}
    assert by_id["bistable/pitchfork_w"].kind == "theory" and by_id["bistable/pitchfork_w"].criterion == "=±tol"
    assert by_id["bistable/end_states_on_stable_fixed_points"].criterion == "="


def test_unconverged_trajectories_fail_the_end_state_claim():
    # Ten steps are too few to converge: the claim must say so rather than pass.
    cfg = {"w": {"start": 1.5, "stop": 3.0, "num": 4}, "b": {"start": -0.5, "stop": 0.5, "num": 3},
           "h0": {"start": -1.0, "stop": 1.0, "num": 4}, "n_steps": 10}
    analysis = {"n_grid": 401, "w_fine": {"start": 0.5, "stop": 3.0, "num": 26},
                "b_fine": {"start": -1.5, "stop": 1.5, "num": 11}, "hyperbolic_margin": 0.05, "end_state_tol": 1e-6}
    claims = {c.id: c for c in stage.claims(stage.analyse(stage.trajectories(cfg), analysis))}
    assert not claims["bistable/end_states_on_stable_fixed_points"].passed
