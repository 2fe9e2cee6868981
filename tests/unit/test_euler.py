"""Forward Euler as a linear RNN; BPTT gradients explode at Euler's stability boundary (`euler`)."""

import math

import numpy as np
import pytest

from rnndyn.analysis.euler import (
    bptt_gradient_norms,
    euler_matrix,
    euler_stability_boundary,
    growth_rate_per_step,
    locate_stability_switch,
)


def test_euler_matrix_is_one_euler_step():
    J = np.array([[-1.0, 2.0], [0.0, -3.0]])
    h = np.array([0.5, -1.0])
    np.testing.assert_array_equal(euler_matrix(J, 0.1) @ h, h + 0.1 * (J @ h))


def test_stability_boundary_formulas():
    assert euler_stability_boundary(-4.0) == 0.5  # 2 / |lambda|
    # lambda = -1 + 2i: -2 Re / |lambda|^2 = 2 / 5, and |1 + dt lambda| = 1 there.
    boundary = euler_stability_boundary(-1 + 2j)
    assert boundary == pytest.approx(0.4, rel=1e-15)
    assert abs(1 + boundary * (-1 + 2j)) == pytest.approx(1.0, rel=1e-15)
    unstable_for_every_step = np.array([0.0, 1.0, 3j])
    np.testing.assert_array_equal(euler_stability_boundary(unstable_for_every_step), 0.0)


def test_gradient_norm_of_scalar_recursion_is_a_power():
    # h <- w h: dL/dh_0 = w^T c, with c = 1 for n = 1.
    T_values = [1, 5, 20]
    norms = bptt_gradient_norms(np.array([[-0.8]]), T_values)
    np.testing.assert_allclose(norms, [0.8**T for T in T_values], rtol=1e-14)
    assert growth_rate_per_step(norms, T_values) == pytest.approx(math.log(0.8), rel=1e-12)


def test_gradient_norm_matches_transposed_matrix_power():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((5, 5)) / 2
    c = rng.standard_normal(5)
    T_values = [3, 10]
    expected = [np.linalg.norm(np.linalg.matrix_power(W, T).T @ c) for T in T_values]
    # Autograd multiplies the same float64 matrices in another order: round-off only.
    np.testing.assert_allclose(bptt_gradient_norms(W, T_values, readout=c), expected, rtol=1e-12)


@pytest.mark.parametrize("lam", [-1.0, -10.0])
def test_switch_on_scalar_ode_at_two_over_abs_lambda(lam):
    expected = 2.0 / abs(lam)
    dt_grid = np.linspace(0.5, 1.5, 11) * expected
    switch = locate_stability_switch(np.array([[lam]]), dt_grid)
    # Claim tolerance is 2%. For the scalar ODE the gradient norm is exactly |1 + dt lambda|^T, so
    # the measured rate is log|1 + dt lambda| to round-off and bisection (50 halvings of a bracket
    # of 0.1 * expected) pins the sign change to ~1e-16 relative; the residual is the round-off of
    # a rate of size ~1e-13 near the switch, i.e. ~1e-12 relative in dt.
    assert switch == pytest.approx(expected, rel=1e-9)


def test_switch_for_matrix_with_complex_and_fast_modes():
    # Eigenvalues -1 +- 2i (boundary 0.4) and -10 (boundary 0.2): the fast real mode goes first.
    J = np.array([[-1.0, 2.0, 0.0], [-2.0, -1.0, 0.0], [0.0, 0.0, -10.0]])
    expected = np.min(euler_stability_boundary(np.linalg.eigvals(J)))
    assert expected == pytest.approx(0.2)
    switch = locate_stability_switch(J, np.linspace(0.1, 0.5, 9))
    # Near dt = 0.2 the other modes have |1 + dt lambda| <= 0.92, so their share of the gradient
    # at T >= 50 is < 0.92^50 = 0.015 and decays: it bends the fitted rate by far less than 2%.
    assert switch == pytest.approx(expected, rel=0.02)


def test_complex_pair_alone_switches_at_its_boundary():
    J = np.array([[-1.0, 2.0], [-2.0, -1.0]])  # eigenvalues -1 +- 2i, normal
    switch = locate_stability_switch(J, np.linspace(0.2, 0.6, 9))
    # W = I + dt J is a scaled rotation, so the gradient norm is |1 + dt lambda|^T ||c|| exactly.
    assert switch == pytest.approx(0.4, rel=1e-9)


def test_no_sign_change_raises():
    with pytest.raises(ValueError):
        locate_stability_switch(np.array([[-1.0]]), np.linspace(0.1, 1.0, 5))


def test_growth_rate_of_annihilated_or_overflowed_gradient():
    # dt = 1 / |lambda| maps the mode to exactly 0: the gradient vanishes, rate -inf.
    norms = bptt_gradient_norms(euler_matrix(np.array([[-2.0]]), 0.5), [1, 2])
    np.testing.assert_array_equal(norms, [0.0, 0.0])
    assert growth_rate_per_step(norms, [1, 2]) == -math.inf
    assert growth_rate_per_step(np.array([1.0, np.inf]), [1, 2]) == math.inf
