"""Tests of the Lorenz-63 generator and the RK4 integrator (rnndyn.systems.lorenz)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from rnndyn.systems.lorenz import (
    BETA,
    KAPLAN_YORKE_DIMENSION,
    LYAPUNOV_SPECTRUM,
    LYAPUNOV_SUM,
    LYAPUNOV_TIME,
    RHO,
    SIGMA,
    integrate_lorenz,
    lorenz_initial_states,
    lorenz_jacobian,
    lorenz_vector_field,
    rk4_step,
)


def test_parameters_and_reference_constants():
    assert (SIGMA, RHO) == (10.0, 28.0)
    assert BETA == 8.0 / 3.0
    # Published to 4 decimals (Sprott): 1/0.9056 = 1.10424, D_KY = 2 + 0.9056/14.5723 = 2.06214.
    assert LYAPUNOV_TIME == pytest.approx(1.10424, abs=1e-5)
    assert KAPLAN_YORKE_DIMENSION == pytest.approx(2.06214, abs=1e-5)
    assert LYAPUNOV_SUM == pytest.approx(-13.666667, abs=1e-6)
    # The published spectrum is consistent with the exact sum to its last printed digit (1e-4).
    assert sum(LYAPUNOV_SPECTRUM) == pytest.approx(LYAPUNOV_SUM, abs=1e-4)


def test_vector_field_by_hand_and_at_fixed_points():
    # (1, 2, 3): (10·(2−1), 1·(28−3) − 2, 1·2 − 8/3·3) = (10, 23, −6), exact in float64.
    np.testing.assert_array_equal(lorenz_vector_field(np.array([1.0, 2.0, 3.0])), [10.0, 23.0, -6.0])
    c = np.sqrt(BETA * (RHO - 1.0))
    fixed = np.array([[0.0, 0.0, 0.0], [c, c, RHO - 1.0], [-c, -c, RHO - 1.0]])
    # The fixed points C± are irrational: the residual is round-off of terms of size ~ 30·27.
    np.testing.assert_allclose(lorenz_vector_field(fixed), 0.0, atol=1e-12)


def test_jacobian_matches_central_differences_and_has_constant_trace():
    rng = np.random.default_rng(0)
    states = rng.uniform(-20.0, 20.0, size=(5, 3))
    jac = lorenz_jacobian(states)
    assert jac.shape == (5, 3, 3)
    eps = 1e-6
    for j in range(3):
        e = np.zeros(3)
        e[j] = eps
        fd = (lorenz_vector_field(states + e) - lorenz_vector_field(states - e)) / (2 * eps)
        # The field is quadratic: central differences are exact up to round-off (~1e-16·400/1e-6).
        np.testing.assert_allclose(jac[:, :, j], fd, atol=1e-7)
    np.testing.assert_allclose(np.trace(jac, axis1=-2, axis2=-1), -(SIGMA + 1.0 + BETA), rtol=1e-15)


def _rk4_error_linear(dt: float) -> float:
    """Global error at t = 1 of RK4 on dx/dt = A x, against the exact solution expm(A) x0."""
    a = np.array([[-0.5, 2.0], [-2.0, -0.3]])
    x0 = np.array([1.0, -0.5])
    x = x0.copy()
    for _ in range(int(round(1.0 / dt))):
        x = rk4_step(lambda s: s @ a.T, x, dt)
    return float(np.linalg.norm(x - expm(a) @ x0))


def test_rk4_is_fourth_order_on_a_linear_ode():
    errors = [_rk4_error_linear(dt) for dt in (0.1, 0.05, 0.025)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    # Global error C dt⁴ (1 + O(dt)): halving dt divides it by 16; the O(dt) correction is a few %.
    np.testing.assert_allclose(ratios, 16.0, rtol=0.05)


def test_rk4_is_fourth_order_on_lorenz():
    x0 = np.array([[1.0, 1.0, 20.0]])

    def final(dt: float) -> np.ndarray:
        return integrate_lorenz(x0, dt=dt, n_steps=int(round(0.5 / dt)))[:, -1]

    # Steps 2⁻⁶, 2⁻⁷, 2⁻⁸ divide t = 0.5 exactly; the reference at 2⁻¹² has a 16⁴-fold smaller error.
    reference = final(2.0**-12)
    errors = [np.linalg.norm(final(2.0**-k) - reference) for k in (6, 7, 8)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    # Leading-order ratio 16; over half a time unit (before chaos amplifies and rotates the error)
    # the O(dt⁵) terms shift it by well under 1 % (measured 16.01, 16.04).
    np.testing.assert_allclose(ratios, 16.0, rtol=0.02)
    np.testing.assert_array_equal(x0, [[1.0, 1.0, 20.0]])  # the input is never modified


def test_integrate_lorenz_matches_generic_rk4_bit_for_bit():
    rng = np.random.default_rng(1)
    x0 = lorenz_initial_states(rng, 4)
    out = integrate_lorenz(x0, dt=0.01, n_steps=30)
    state = x0.copy()
    expected = [state]
    for _ in range(30):
        state = rk4_step(lorenz_vector_field, state, 0.01)
        expected.append(state)
    # Same arithmetic in the same order: identical floats.
    np.testing.assert_array_equal(out, np.stack(expected, axis=1))


def test_integrate_lorenz_shapes_transient_and_sampling():
    rng = np.random.default_rng(2)
    x0 = lorenz_initial_states(rng, 3)
    full = integrate_lorenz(x0, dt=0.01, n_steps=40)
    assert full.shape == (3, 41, 3) and full.dtype == np.float64
    np.testing.assert_array_equal(full[:, 0], x0)
    shifted = integrate_lorenz(x0, dt=0.01, n_steps=30, n_transient=10)
    np.testing.assert_array_equal(shifted, full[:, 10:])
    sampled = integrate_lorenz(x0, dt=0.01, n_steps=40, sample_every=5)
    assert sampled.shape == (3, 9, 3)
    np.testing.assert_array_equal(sampled, full[:, ::5])
    # Each trajectory is independent of the rest of the batch.
    np.testing.assert_array_equal(integrate_lorenz(x0[1:2], dt=0.01, n_steps=40), full[1:2])


def test_integrate_lorenz_rejects_bad_arguments():
    with pytest.raises(ValueError):
        integrate_lorenz(np.zeros(3), dt=0.01, n_steps=5)
    with pytest.raises(ValueError):
        integrate_lorenz(np.zeros((2, 3)), dt=0.01, n_steps=5, sample_every=0)


def test_initial_states_reach_the_attractor():
    states = lorenz_initial_states(np.random.default_rng(3), 200)
    assert states.shape == (200, 3)
    np.testing.assert_array_equal(states, lorenz_initial_states(np.random.default_rng(3), 200))
    on = integrate_lorenz(states, dt=0.01, n_steps=2000, n_transient=1000, sample_every=10)
    # The attractor's extent: |x| < 20, |y| < 28, 0 < z < 50 (generous by a few units).
    assert np.abs(on[..., 0]).max() < 22 and np.abs(on[..., 1]).max() < 30
    assert 0 < on[..., 2].min() and on[..., 2].max() < 50
    # Time averages over the batch: z̄ ≈ 23.5 on the attractor (symmetric in x, y: x̄ ≈ 0);
    # 200 × 20 time units give them to about ±0.2.
    assert on[..., 2].mean() == pytest.approx(23.5, abs=0.5)
    assert abs(on[..., 0].mean()) < 0.5
