"""Crossings of a sampled curve and Student-t intervals (rnndyn.analysis.statistics): exact values."""

import math

import numpy as np
import pytest
import scipy.stats

from rnndyn.analysis.statistics import first_upward_crossing, mean_interval

# lambda1 against g for a finite network: the stable branch 2 (g - 0.97) below g0 = 0.97, then a zero
# plateau (periodic window), then chaos 0.2 (g - 1.5) from g = 1.5. Piecewise linear: every crossing known.
G = np.array([0.8, 0.9, 0.95, 1.0, 1.1, 1.5, 2.0])
LAM = np.where(G < 0.97, 2.0 * (G - 0.97), np.where(G < 1.5, 0.0, 0.2 * (G - 1.5)))


def test_first_upward_crossing_extrapolates_the_stable_branch_over_the_plateau():
    # The secant through (0.9, -0.14) and (0.95, -0.04) meets zero at 0.97, inside the bracket [0.95, 1.0];
    # the chord to the plateau point (1.0, 0) would give 1.0.
    assert first_upward_crossing(G, LAM, tol=0.005) == pytest.approx(0.97, abs=1e-12)


def test_first_upward_crossing_of_a_line_is_its_root():
    x = np.linspace(0.0, 1.0, 11)
    assert first_upward_crossing(x, 3.0 * (x - 0.437), tol=1e-3) == pytest.approx(0.437, abs=1e-12)


def test_first_upward_crossing_with_one_point_below_uses_the_chord():
    # From g = 0.95 on, only (0.95, -0.04) is below: the chord to (1.0, 0) crosses at 1.0.
    assert first_upward_crossing(G[2:], LAM[2:], tol=0.005) == pytest.approx(1.0, abs=1e-12)
    # Chord of [0, 1] through (0, -1) and (1, 3): zero at 0.25.
    assert first_upward_crossing(np.array([0.0, 1.0]), np.array([-1.0, 3.0]), tol=0.0) == 0.25


def test_first_upward_crossing_is_clipped_to_its_bracket():
    # The secant through (0, -3) and (1, -2) meets zero at 3, beyond the bracket [1, 2]: clipped to 2.
    assert first_upward_crossing(np.array([0.0, 1.0, 2.0]), np.array([-3.0, -2.0, 5.0]), tol=0.1) == 2.0


def test_first_upward_crossing_is_nan_without_a_crossing():
    assert math.isnan(first_upward_crossing(G, np.abs(LAM) + 0.01, tol=0.005))  # never below
    assert math.isnan(first_upward_crossing(G, -np.ones_like(G), tol=0.005))  # never rises
    # Inside the band is not a crossing: -0.004 counts as zero at tol = 0.005.
    assert math.isnan(first_upward_crossing(G, np.full_like(G, -0.004), tol=0.005))


def test_mean_interval_is_the_student_t_interval():
    sample = np.array([0.91, 1.04, 0.97, 1.12, 0.88])
    mean, half = mean_interval(sample, 0.95)
    low, high = scipy.stats.t.interval(0.95, sample.size - 1, loc=sample.mean(), scale=scipy.stats.sem(sample))
    assert mean == pytest.approx(0.984, abs=1e-15)
    assert (mean - half, mean + half) == pytest.approx((low, high), abs=1e-15)
    # By hand for three values: s = 0.1, t_{0.975, 2} = 4.302653, half = t s / sqrt(3); NaN ignored.
    mean, half = mean_interval(np.array([0.9, 1.0, 1.1, np.nan]))
    assert mean == pytest.approx(1.0, abs=1e-15)
    assert half == pytest.approx(4.302652729749464 * 0.1 / math.sqrt(3), rel=1e-12)
    # A 99 % interval is wider.
    assert mean_interval(sample, 0.99)[1] > mean_interval(sample, 0.95)[1]


def test_mean_interval_needs_two_finite_values():
    mean, half = mean_interval(np.array([2.5, np.nan]))
    assert mean == 2.5 and math.isnan(half)
    mean, half = mean_interval(np.array([np.nan]))
    assert math.isnan(mean) and math.isnan(half)
