"""Tests of the QR Lyapunov engine (rnndyn.analysis.lyapunov) on maps with known spectra."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch

from rnndyn.analysis.lyapunov import (
    LyapunovResult,
    kaplan_yorke_dimension,
    lyapunov_spectrum,
    lyapunov_spectrum_autograd,
    rk4_step_jacobian,
    rk4_tangent_step,
)
from rnndyn.systems.lorenz import (
    LYAPUNOV_SPECTRUM,
    LYAPUNOV_SUM,
    lorenz_jacobian,
    lorenz_reference_spectrum,
    lorenz_vector_field,
    rk4_step,
)

HENON_A, HENON_B = 1.4, 0.3
HENON_SPECTRUM = (0.41922, -1.62319)  # Sprott, Chaos and Time-Series Analysis (2003), per iteration


def linear_map(a: np.ndarray):
    """``x ← A x`` for a batch (B, d), with its constant Jacobian."""
    return (lambda x: x @ a.T), (lambda x: np.broadcast_to(a, (x.shape[0],) + a.shape))


def henon_step(x: np.ndarray) -> np.ndarray:
    return np.stack([1.0 - HENON_A * x[:, 0] ** 2 + x[:, 1], HENON_B * x[:, 0]], axis=1)


def henon_jacobian(x: np.ndarray) -> np.ndarray:
    jac = np.zeros((x.shape[0], 2, 2))
    jac[:, 0, 0] = -2.0 * HENON_A * x[:, 0]
    jac[:, 0, 1] = 1.0
    jac[:, 1, 0] = HENON_B
    return jac


def tanh_network(weights: np.ndarray):
    """``h ← tanh(W_b h)`` for a batch of networks ``W`` (B, d, d), NumPy step and Jacobian."""
    def step(h):
        return np.tanh(np.einsum("bij,bj->bi", weights, h))

    def jacobian(h):
        return (1.0 - step(h) ** 2)[:, :, None] * weights

    return step, jacobian


# --- linear maps: exponents are log |eigenvalues| -------------------------------------------------

EIGENVALUES = np.array([2.0, -0.5, 0.1])


@pytest.mark.parametrize("qr_every", [1, 4, "auto"])
def test_diagonalisable_linear_map(qr_every):
    rng = np.random.default_rng(0)
    v = rng.standard_normal((3, 3))
    a = v @ np.diag(EIGENVALUES) @ np.linalg.inv(v)
    step, jac = linear_map(a)
    result = lyapunov_spectrum(step, jac, rng.standard_normal((2, 3)), n_steps=200, n_transient=100,
                               qr_every=qr_every)
    # After the transient the basis is the Schur basis (orthogonal iteration converges like
    # 0.25¹⁰⁰, 0.2¹⁰⁰), where every |R_ii| equals |μ_i| exactly: only round-off remains.
    np.testing.assert_allclose(result.exponents, np.log(np.abs(EIGENVALUES))[None].repeat(2, 0), atol=1e-12)


def test_non_normal_upper_triangular_map():
    # Large off-diagonal terms: transient growth, but the exponents are still log |a_ii|.
    a = np.array([[2.0, 100.0, -30.0], [0.0, -0.5, 50.0], [0.0, 0.0, 0.1]])
    step, jac = linear_map(a)
    result = lyapunov_spectrum(step, jac, np.ones((1, 3)), n_steps=300, n_transient=200)
    # As above; the off-diagonal scale 100 costs a couple of digits of round-off at most.
    np.testing.assert_allclose(result.exponents[0], np.log(np.abs(np.diag(a))), atol=1e-11)


def test_scaled_rotation_does_not_overflow():
    # x ← 10 O x: every exponent is log 10 ≈ 2.3 per step, zero spread, so "auto" lengthens the QR
    # interval until the growth cap (|log R_ii| ≤ 300) stops it; without the cap 5,000 steps
    # between QRs would overflow float64 (10³⁰⁸).
    c, s = np.cos(0.7), np.sin(0.7)
    a = 10.0 * np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    step, jac = linear_map(a)
    result = lyapunov_spectrum(step, jac, np.zeros((1, 3)), n_steps=5000)  # state at the fixed point
    np.testing.assert_allclose(result.exponents[0], np.log(10.0), rtol=1e-12)
    assert result.n_qr < 5000 / 50  # intervals grew well beyond one step (cap: 130)


def test_leading_exponents_only():
    rng = np.random.default_rng(1)
    step, jac = tanh_network(rng.standard_normal((2, 6, 6)) * 2.0 / np.sqrt(6))
    x0 = rng.standard_normal((2, 6))
    full = lyapunov_spectrum(step, jac, x0, n_steps=300, n_transient=50, qr_every=1)
    lead = lyapunov_spectrum(step, jac, x0, n_steps=300, n_transient=50, qr_every=1, n_exponents=2)
    assert lead.exponents.shape == (2, 2)
    # QR of the first k columns is the first k columns of the full QR: same numbers up to round-off.
    np.testing.assert_allclose(lead.exponents, full.exponents[:, :2], atol=1e-12)


# --- Hénon map -----------------------------------------------------------------------------------

def test_henon_map():
    rng = np.random.default_rng(2)
    x0 = rng.uniform(-0.1, 0.1, size=(64, 2))  # inside the basin of the attractor
    result = lyapunov_spectrum(henon_step, henon_jacobian, x0, n_steps=10_000, n_transient=1000)
    # det DF = −b at every point: λ1 + λ2 = ln 0.3 for every trajectory and any budget, up to the
    # round-off of ~10⁴ log sums (measured ≤ 2·10⁻¹¹).
    np.testing.assert_allclose(result.exponents.sum(axis=1), np.log(HENON_B), atol=1e-10)
    # λ1: a trajectory's finite-time estimate has std ≈ 0.35/√n, so the mean of 64 × 10⁴ steps has
    # a standard error ≈ 4.4·10⁻⁴; 3·10⁻³ is ~7 standard errors (plus the reference's 5·10⁻⁶ rounding).
    np.testing.assert_allclose(result.mean(), HENON_SPECTRUM, atol=3e-3)


# --- tanh map at a stable fixed point ------------------------------------------------------------

def test_diagonal_tanh_map_at_stable_fixed_points():
    w = np.array([0.5, 1.5, -0.8, 2.0, 3.0])
    b = np.array([0.1, 0.0, 0.3, -0.2, 0.5])
    h = np.full(5, 0.5)
    for _ in range(2000):  # every unit is a contraction near its fixed point (|slope| ≤ 0.55)
        h = np.tanh(w * h + b)
    np.testing.assert_allclose(np.tanh(w * h + b), h, atol=1e-15)
    expected = np.sort(np.log(np.abs(w * (1.0 - h**2))))[::-1]

    def step(x):
        return np.tanh(w * x + b)

    def jac(x):
        return np.einsum("bi,ij->bij", w * (1.0 - step(x) ** 2), np.eye(5))

    result = lyapunov_spectrum(step, jac, h[None], n_steps=100, n_transient=500)
    # At the fixed point the Jacobian is the constant diagonal matrix diag(w (1 − h*²)); after the
    # transient the basis is aligned with the axes (closest exponent gap 0.17 per step: e⁻⁸⁵), so
    # every |R_ii| is one diagonal entry: exact up to round-off.
    np.testing.assert_allclose(result.exponents[0], expected, atol=1e-12)


# --- Lorenz ----------------------------------------------------------------------------------------

def test_rk4_step_jacobian_matches_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.uniform(-15.0, 15.0, size=(4, 3)) + np.array([0.0, 0.0, 25.0])
    jac = rk4_step_jacobian(lorenz_vector_field, lorenz_jacobian, x, 0.01)
    eps = 1e-5
    for j in range(3):
        e = np.zeros(3)
        e[j] = eps
        plus, minus = rk4_step(lorenz_vector_field, x + e, 0.01), rk4_step(lorenz_vector_field, x - e, 0.01)
        fd = (plus - minus) / (2 * eps)
        # The RK4 map is a polynomial (degree 16): central differences err by O(eps²) truncation
        # (~1e-10) plus round-off 1e-16·|Φ|/eps ≈ 1e-9.
        np.testing.assert_allclose(jac[:, :, j], fd, atol=1e-8)
    tangent = rng.standard_normal((4, 3, 2))
    new_state, new_tangent = rk4_tangent_step(lorenz_vector_field, lorenz_jacobian, x, tangent, 0.01)
    np.testing.assert_array_equal(new_state, rk4_step(lorenz_vector_field, x, 0.01))
    np.testing.assert_allclose(new_tangent, jac @ tangent, rtol=1e-13, atol=1e-13)


def test_lorenz_spectrum_at_a_test_budget():
    result = lorenz_reference_spectrum(np.random.default_rng(4), n_trajectories=128, t_total=100.0,
                                       dt=0.01, t_transient=20.0)
    assert result.exponents.shape == (128, 3)
    # The sum is the mean of log|det DΦ| of the RK4 map, exp(−13.667 dt) only up to O(dt⁵) per
    # step: the RK4 map's sum sits +1.02·10⁻⁴ above −(σ + 1 + β) at dt = 0.01 (measured; it scales
    # as dt⁴, see the next test), with a batch spread of ~3·10⁻⁷. 2·10⁻⁴ bounds it.
    assert result.mean().sum() == pytest.approx(LYAPUNOV_SUM, abs=2e-4)
    # Finite time: a trajectory's λ1 (λ3) has std ≈ 0.19/√T (0.17/√T), λ2 ≈ 0.8/T, so 128 × 100 time
    # units give standard errors ≈ (1.7, 0.7, 1.5)·10⁻³; tolerances are ~6 standard errors. The
    # RK4 bias at dt = 0.01 (~10⁻⁴) is far below them.
    error = np.abs(result.mean() - np.array(LYAPUNOV_SPECTRUM))
    assert np.all(error < [0.01, 0.005, 0.01]), error
    assert kaplan_yorke_dimension(result.mean()) == pytest.approx(2.062, abs=0.002)
    np.testing.assert_array_equal(result.running[-1], result.exponents)
    assert result.times[-1] == pytest.approx(100.0)


def test_lorenz_sum_bias_is_fourth_order_in_dt():
    def sum_bias(dt):
        # A transient of 20 time units: trajectories that start near the z axis linger by the
        # origin (eigenvalue −22.8, a 5-fold larger RK4 bias) for several time units.
        result = lorenz_reference_spectrum(np.random.default_rng(5), n_trajectories=16, t_total=20.0,
                                           dt=dt, t_transient=20.0)
        return result.mean().sum() - LYAPUNOV_SUM

    coarse, fine = sum_bias(0.02), sum_bias(0.01)
    # Measured 1.77·10⁻³ and 1.02·10⁻⁴: ratio 17.4 = 16 (1 + O(dt)); the batch noise (~3·10⁻⁵ and
    # 10⁻⁶) moves it by ~2 %. A first-, second- or fifth-order error would give 2, 4 or 32.
    assert coarse > 0 and fine > 0
    assert 15.0 < coarse / fine < 19.5


# --- autograd path, QR interval ------------------------------------------------------------------

def test_autograd_matches_analytic_jacobian_on_a_batch_of_networks():
    rng = np.random.default_rng(6)
    weights = rng.standard_normal((3, 8, 8)) * 1.5 / np.sqrt(8)
    h0 = rng.standard_normal((3, 8))
    step, jac = tanh_network(weights)
    analytic = lyapunov_spectrum(step, jac, h0, n_steps=60, n_transient=10)
    w_t = torch.from_numpy(weights)

    def step_t(h):
        return torch.tanh(torch.einsum("bij,bj->bi", w_t, h))

    autograd = lyapunov_spectrum_autograd(step_t, torch.from_numpy(h0), n_steps=60, n_transient=10)
    # Same map, same basis, same intervals; the only difference is round-off in the matmuls,
    # amplified by at most exp(λ1 · 70) ≈ 1e3 along these short chaotic trajectories.
    np.testing.assert_allclose(autograd.exponents, analytic.exponents, atol=1e-10)
    np.testing.assert_allclose(autograd.running, analytic.running, atol=1e-10)


def test_autograd_linear_map_and_leading_exponents():
    a = torch.tensor([[0.9, 0.3, 0.0], [0.0, -1.2, 0.5], [0.0, 0.0, 0.2]], dtype=torch.float64)
    # B = 1: the tangents' (k, 1, d) layout is the case that needs canonical strides.
    result = lyapunov_spectrum_autograd(lambda h: h @ a.T, torch.ones(1, 3), n_steps=100,
                                        n_transient=100, n_exponents=2)
    # Exact as for the NumPy linear maps: the two largest |a_ii| are 1.2 and 0.9.
    np.testing.assert_allclose(result.exponents, np.log([[1.2, 0.9]]), atol=1e-12)


def test_adaptive_qr_interval_matches_qr_every_step():
    rng = np.random.default_rng(7)
    n = 64
    weights = rng.standard_normal((1, n, n)) * 2.0 / np.sqrt(n)
    step, jac = tanh_network(weights)
    h0 = rng.standard_normal((1, n))
    every = lyapunov_spectrum(step, jac, h0, n_steps=400, n_transient=50, qr_every=1)
    auto = lyapunov_spectrum(step, jac, h0, n_steps=400, n_transient=50, qr_every="auto")
    assert auto.n_qr < every.n_qr / 1.5  # the intervals did grow beyond one step
    # Spread ≤ 20 between QRs (κ ≤ 5·10⁸) keeps about 7 digits in the smallest R_kk: a relative
    # error ~10⁻⁷ per QR in log terms of size ~5, i.e. well below 10⁻⁶ per step after averaging.
    np.testing.assert_allclose(auto.exponents, every.exponents, atol=1e-6)


def test_records_and_result_helpers():
    step, jac = linear_map(np.diag([0.5, 2.0]))
    result = lyapunov_spectrum(step, jac, np.ones((3, 2)), n_steps=100, n_transient=60, qr_every=7, dt=0.5,
                               record_every=10)
    assert isinstance(result, LyapunovResult)
    # Records are taken at the first QR at or after each multiple of 10 steps (QRs at 7, 14, ...),
    # and at the end.
    np.testing.assert_allclose(result.times, 0.5 * np.array([14, 21, 35, 42, 56, 63, 70, 84, 91, 100]))
    assert result.running.shape == (10, 3, 2)
    # Per unit time: log 2 / 0.5 and log 0.5 / 0.5, sorted descending (the transient aligned the
    # basis with the axes to 4⁻⁶⁰).
    np.testing.assert_allclose(result.mean(), [2 * np.log(2.0), -2 * np.log(2.0)], atol=1e-12)
    np.testing.assert_allclose(result.std(), 0.0, atol=1e-12)
    np.testing.assert_allclose(result.standard_error(), 0.0, atol=1e-12)
    assert np.isnan(LyapunovResult(np.zeros((1, 2)), np.zeros((1, 1, 2)), np.ones(1), 1).std()).all()


def test_invalid_arguments():
    step, jac = linear_map(np.eye(2))
    with pytest.raises(ValueError):
        lyapunov_spectrum(step, jac, np.ones(2), n_steps=10)
    with pytest.raises(ValueError):
        lyapunov_spectrum(step, jac, np.ones((1, 2)), n_steps=10, qr_every=0)
    with pytest.raises(ValueError):
        lyapunov_spectrum(step, jac, np.ones((1, 2)), n_steps=10, n_exponents=3)


# --- Kaplan–Yorke dimension ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("spectrum", "expected"),
    [
        ((0.9056, 0.0, -14.5723), 2.0 + 0.9056 / 14.5723),  # Lorenz: 2.06214
        ((0.41922, -1.62319), 1.0 + 0.41922 / 1.62319),  # Hénon: 1.25827
        ((1.0, -0.5, -2.0), 2.25),  # partial sums 1, 0.5, −1.5 → j = 2, 2 + 0.5/2
        ((-2.0, 1.0, -0.5), 2.25),  # same spectrum, unsorted
        ((0.5, -1.0, -1.0), 1.5),  # partial sums 0.5, −0.5 → j = 1
        ((0.0, -1.0), 1.0),  # a limit cycle
        ((-0.1, -1.0), 0.0),  # a stable fixed point
        ((1.0, 0.5), 2.0),  # no contraction: the whole plane
        ((0.0, 0.0, -3.0), 2.0),  # a 2-torus
    ],
)
def test_kaplan_yorke_dimension(spectrum, expected):
    assert kaplan_yorke_dimension(np.array(spectrum)) == pytest.approx(expected, abs=1e-12)


def test_kaplan_yorke_dimension_is_batched():
    spectra = np.array([[[1.0, -0.5, -2.0], [-1.0, -2.0, -3.0]], [[1.0, 1.0, 1.0], [np.nan, 0.0, -1.0]]])
    np.testing.assert_allclose(kaplan_yorke_dimension(spectra), [[2.25, 0.0], [3.0, np.nan]])


def test_lyapunov_spectrum_accepts_an_rk4_step_and_its_jacobian():
    # The map-level API with a flow: an RK4 step and the exact Jacobian of that step.
    rng = np.random.default_rng(8)
    x0 = rng.uniform(-5.0, 5.0, size=(4, 3)) + np.array([0.0, 0.0, 25.0])
    result = lyapunov_spectrum(
        partial(rk4_step, lorenz_vector_field, dt=0.01),
        partial(rk4_step_jacobian, lorenz_vector_field, lorenz_jacobian, dt=0.01),
        x0, n_steps=2000, n_transient=500, dt=0.01,
    )
    # Short run (20 time units): only the sum is sharp (RK4 bias +1.0·10⁻⁴, as in
    # test_lorenz_spectrum_at_a_test_budget).
    assert result.mean().sum() == pytest.approx(LYAPUNOV_SUM, abs=2e-4)
