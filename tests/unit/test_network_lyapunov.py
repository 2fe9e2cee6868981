"""Tests of the networks' analytic Jacobians and of their closed-loop and conditional spectra
(rnndyn.models.*.step_jacobians, rnndyn.analysis.network_lyapunov) on maps with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils import parametrize

from rnndyn.analysis.lyapunov import lyapunov_spectrum_autograd, lyapunov_spectrum_driven, rk4_step_jacobian
from rnndyn.analysis.network_lyapunov import (
    ROUND_OFF_PER_STEP,
    closed_loop_spectrum,
    conditional_spectrum,
    intrinsic_exponents,
)
from rnndyn.models import MODELS, RecurrentModel, build_model
from rnndyn.systems.lorenz import (
    LYAPUNOV_SPECTRUM,
    LYAPUNOV_SUM,
    integrate_lorenz,
    lorenz_initial_states,
    lorenz_jacobian,
    lorenz_vector_field,
    rk4_step,
)

F64 = torch.float64
torch.set_num_threads(1)  # small batched products: threads only add overhead (as in test_models.py)


def network(name: str, size: int = 6, seed: int = 3) -> RecurrentModel:
    return build_model(name, input_size=2, hidden_size=size, output_size=2,
                       generator=torch.Generator().manual_seed(seed), dtype=F64)


def jvp_columns(fn, primals: tuple[torch.Tensor, ...], tangents: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Forward-mode derivative of ``fn`` along each of the k columns of ``tangents`` -> (B, S, k)."""
    def push(*columns: torch.Tensor) -> torch.Tensor:
        return torch.func.jvp(fn, primals, columns)[1]

    with parametrize.cached():
        fn(*primals)  # fill parametrisation caches outside torch.func's transforms
        return torch.func.vmap(push, in_dims=-1, out_dims=-1)(*tangents)


# --- analytic Jacobians against forward-mode autodiff ---------------------------------------------

@pytest.mark.parametrize("name", sorted(MODELS))
def test_step_jacobians_match_forward_mode_autodiff(name):
    model = network(name)
    gen = torch.Generator().manual_seed(11)
    batch, k, size = 4, 3, model.state_size
    x = torch.randn(batch, 2, generator=gen, dtype=F64)
    # Full states of realistic size; for the LSTM the second half is the cell state, which the
    # tangents perturb too. Row 0 is the zero state: the shPLRNN's W2 z = 0 sits on a relu kink,
    # where autograd's relu'(0) = 0 is the convention to match.
    state = torch.randn(batch, size, generator=gen, dtype=F64)
    state[0] = 0.0
    d_state = torch.randn(batch, size, k, generator=gen, dtype=F64)
    d_input = torch.randn(batch, 2, k, generator=gen, dtype=F64)
    with torch.no_grad():
        next_state, state_jacobian, input_jacobian = model.step_jacobians(x, state)
        fallback = RecurrentModel.step_jacobians(model, x, state)

        driven = jvp_columns(model.step, (x, state), (torch.zeros_like(d_input), d_state))
        both = jvp_columns(model.step, (x, state), (d_input, d_state))

        def autonomous(s: torch.Tensor) -> torch.Tensor:
            return model.step(model.readout(s), s)

        closed = jvp_columns(autonomous, (state,), (d_state,))
        _, fed_back_state, fed_back_input = model.step_jacobians(model.readout(state), state)
        readout = model.output_layer.weight
        closed_analytic = fed_back_state @ d_state + fed_back_input @ (readout @ d_state[:, : model.hidden_size])
        stepped = model.step(x, state)
        driven_analytic = state_jacobian @ d_state
        both_analytic = driven_analytic + input_jacobian @ d_input

    # Same arithmetic up to the order of a few sums: agreement to round-off of O(1) numbers.
    np.testing.assert_allclose(next_state, stepped, rtol=0, atol=1e-14)
    np.testing.assert_allclose(driven_analytic, driven, rtol=0, atol=1e-12)
    np.testing.assert_allclose(both_analytic, both, rtol=0, atol=1e-12)
    np.testing.assert_allclose(closed_analytic, closed, rtol=0, atol=1e-12)
    # The base class's autodiff fallback gives the same Jacobians.
    for analytic, autodiff in zip((next_state, state_jacobian, input_jacobian), fallback):
        np.testing.assert_allclose(analytic.detach(), autodiff, rtol=0, atol=1e-12)


def test_shplrnn_running_jacobians_match_the_dense_ones_over_many_rows():
    model = network("shplrnn", size=5)
    # 150 rows: several restarts of the running sums and a partial segment; consecutive rows of a
    # trajectory (few slope changes) and, after them, unrelated random rows (many).
    with torch.no_grad():
        _, along = model(torch.randn(1, 100, 2, generator=torch.Generator().manual_seed(1), dtype=F64))
        rows = torch.cat([along[0], torch.randn(50, 5, generator=torch.Generator().manual_seed(2), dtype=F64)])
        _, running, _ = model.step_jacobians(torch.zeros(150, 2, dtype=F64), rows)
        dense = model.jacobian(rows)
    np.testing.assert_allclose(running, dense, rtol=0, atol=1e-13)


# --- spectra against the autodiff path ------------------------------------------------------------

@pytest.mark.parametrize("name", ["gru", "lstm", "orthogonal", "shplrnn"])
def test_closed_loop_spectrum_matches_the_autograd_path(name):
    model = network(name)
    start = 0.5 * torch.randn(3, model.state_size, generator=torch.Generator().manual_seed(5), dtype=F64)
    analytic = closed_loop_spectrum(model, start, n_steps=80, n_transient=20, dt=0.1,
                                    rng=np.random.default_rng(2))

    def autonomous(s: torch.Tensor) -> torch.Tensor:
        return model.step(model.readout(s), s)

    with parametrize.cached():
        reference = lyapunov_spectrum_autograd(autonomous, start, n_steps=80, n_transient=20, dt=0.1,
                                               rng=np.random.default_rng(2))
    # Same trajectory, basis and QR times; only the round-off of forming the Jacobians differs, which
    # each QR amplifies in the smallest exponents by up to the basis' condition number (<= e^20):
    # the engine's bound ROUND_OFF_PER_STEP per step.
    tolerance = ROUND_OFF_PER_STEP / 0.1
    np.testing.assert_allclose(analytic.exponents, reference.exponents, rtol=0, atol=tolerance)
    np.testing.assert_allclose(analytic.running, reference.running, rtol=0, atol=tolerance)
    assert analytic.n_qr == reference.n_qr


@pytest.mark.parametrize("name", ["gru", "lstm", "vanilla"])
def test_conditional_spectrum_feeds_input_t_at_step_t(name):
    model = network(name)
    gen = torch.Generator().manual_seed(8)
    inputs = torch.randn(3, 90, 2, generator=gen, dtype=F64)
    start = torch.randn(3, model.state_size, generator=gen, dtype=F64)
    result = conditional_spectrum(model, inputs, start, n_transient=30, dt=0.5, rng=np.random.default_rng(4))

    def tangent_step(t, state, basis):
        pushed = jvp_columns(model.step, (inputs[:, t], state), (torch.zeros(3, 2, basis.shape[-1], dtype=F64), basis))
        return model.step(inputs[:, t], state), pushed

    with torch.no_grad():
        reference = lyapunov_spectrum_driven(tangent_step, start, n_steps=60, n_transient=30, dt=0.5,
                                             rng=np.random.default_rng(4))
    np.testing.assert_allclose(result.exponents, reference.exponents, rtol=0, atol=ROUND_OFF_PER_STEP / 0.5)
    assert result.times[-1] == pytest.approx(60 * 0.5)  # T - n_transient steps averaged


def test_spectra_need_float64_and_matching_shapes():
    model = build_model("gru", input_size=2, hidden_size=4, output_size=2,
                        generator=torch.Generator().manual_seed(0))  # float32
    with pytest.raises(ValueError, match="float64"):
        closed_loop_spectrum(model, np.zeros((2, 4)), n_steps=5, n_transient=0, dt=1.0,
                             rng=np.random.default_rng(0))
    model = network("gru", size=4)
    with pytest.raises(ValueError, match="states"):
        closed_loop_spectrum(model, np.zeros((2, 5)), n_steps=5, n_transient=0, dt=1.0,
                             rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="inputs"):
        conditional_spectrum(model, np.zeros((3, 10, 2)), np.zeros((2, 4)), n_transient=0, dt=1.0,
                             rng=np.random.default_rng(0))


# --- linear networks: exponents are log |eigenvalues| ---------------------------------------------

DRIVEN_EIGENVALUES = np.array([0.9, -0.6, 0.3, 0.1])  # of W
CLOSED_EIGENVALUES = np.array([1.1, 0.5, -0.2, 0.05])  # of W + U C


def linear_network(closed_eigenvalues: np.ndarray) -> RecurrentModel:
    """``h <- W h + U x``, ``y = C h`` with W = P diag(DRIVEN) P^-1 and W + U C = P diag(closed) P^-1.

    P is a fixed non-orthogonal basis (W is not normal). ``closed == DRIVEN`` gives ``U C = 0``.
    """
    basis = np.array([[1.0, 0.4, 0.0, 0.2], [0.0, 1.0, -0.5, 0.0], [0.3, 0.0, 1.0, 0.1], [0.0, 0.2, 0.0, 1.0]])
    inverse = np.linalg.inv(basis)
    model = build_model("linear", input_size=4, hidden_size=4, output_size=4,
                        generator=torch.Generator().manual_seed(0), dtype=F64)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(torch.from_numpy(basis @ np.diag(DRIVEN_EIGENVALUES) @ inverse))
        model.rnn.weight_ih_l0.copy_(torch.from_numpy(basis @ np.diag(closed_eigenvalues - DRIVEN_EIGENVALUES)))
        model.output_layer.weight.copy_(torch.from_numpy(inverse))
    return model


def linear_spectra(model: RecurrentModel):
    start = torch.randn(3, 4, generator=torch.Generator().manual_seed(1), dtype=F64)
    inputs = torch.randn(3, 600, 4, generator=torch.Generator().manual_seed(2), dtype=F64)
    closed = closed_loop_spectrum(model, start, n_steps=400, n_transient=200, dt=1.0, rng=np.random.default_rng(0))
    driven = conditional_spectrum(model, inputs, start, n_transient=200, dt=1.0, rng=np.random.default_rng(1))
    return closed, driven


def expected(eigenvalues: np.ndarray) -> np.ndarray:
    return np.sort(np.log(np.abs(eigenvalues)))[::-1]


def test_linear_network_spectra_are_the_log_moduli_of_its_eigenvalues():
    closed, driven = linear_spectra(linear_network(CLOSED_EIGENVALUES))
    # Constant Jacobians: after 200 aligning steps the basis error is below (0.6/0.9)^200 ~ 1e-35,
    # so only round-off remains (~1e-15 per step in each log|R_ii|).
    np.testing.assert_allclose(closed.exponents, np.broadcast_to(expected(CLOSED_EIGENVALUES), (3, 4)), atol=1e-10)
    np.testing.assert_allclose(driven.exponents, np.broadcast_to(expected(DRIVEN_EIGENVALUES), (3, 4)), atol=1e-10)
    # "No": no closed-loop exponent is a conditional one, so all are intrinsic.
    split = intrinsic_exponents(closed.mean(), closed.standard_error(), driven.mean(), driven.standard_error(), dt=1.0)
    np.testing.assert_array_equal(split.intrinsic, np.arange(4))
    assert split.pairs.shape == (0, 2) and split.spurious.size == 0


def test_linear_network_without_feedback_has_no_intrinsic_exponent():
    closed, driven = linear_spectra(linear_network(DRIVEN_EIGENVALUES))  # U C = 0: closed loop = driven
    np.testing.assert_allclose(closed.exponents, np.broadcast_to(expected(DRIVEN_EIGENVALUES), (3, 4)), atol=1e-10)
    # "All": every closed-loop exponent is a conditional one (equal to round-off; the standard
    # errors are 0, every trajectory has the same constant Jacobian), so none is intrinsic.
    split = intrinsic_exponents(closed.mean(), closed.standard_error(), driven.mean(), driven.standard_error(), dt=1.0)
    assert split.intrinsic.size == 0
    np.testing.assert_array_equal(split.pairs, np.stack([np.arange(4), np.arange(4)], axis=1))


# --- Lorenz's RK4 map embedded with contracting directions ------------------------------------------

DT = 0.01
RATES = np.array([-2.0, -5.0, -30.0])  # per unit time; -2 and -5 rank above Lorenz's λ3 = -14.57
SIGNS = np.array([1.0, -1.0, 1.0])  # a negative multiplier: the exponent is log|D_i|


class EmbeddedLorenz(RecurrentModel):
    """Lorenz's RK4 map on ``u`` with contracting directions ``w`` forced by the input.

    State ``s = (u, w)``, input ``x`` in R³, read-out ``y = u``;
    ``step(x, s) = (RK4(x), D w + tanh(A x / 20))`` with ``D = diag(±exp(rate · dt))``.
    In closed loop ``u' = RK4(u)``: the Jacobian is block triangular, so the spectrum is Lorenz's
    three exponents and the ``rates``. Driven by the true signal, ``u'`` does not depend on the
    state (those directions are annihilated) and the conditional spectrum is the ``rates``.
    """

    def __init__(self) -> None:
        m = RATES.size
        super().__init__(input_size=3, hidden_size=3 + m, output_size=3, state_size=3 + m, readout_bias=False,
                         dtype=F64, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            self.output_layer.weight.copy_(torch.eye(3, 3 + m, dtype=F64))
        self.multipliers = SIGNS * np.exp(RATES * DT)
        self.forcing = np.random.default_rng(9).standard_normal((m, 3)) / 20.0

    def step(self, x_t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        x, w = x_t.numpy(), state[:, 3:].numpy()
        forced = self.multipliers * w + np.tanh(x @ self.forcing.T)
        return torch.from_numpy(np.concatenate([rk4_step(lorenz_vector_field, x, DT), forced], axis=1))

    def step_jacobians(self, x_t, state):
        x = x_t.numpy()
        state_jacobian = np.zeros((x.shape[0], self.state_size, self.state_size))
        state_jacobian[:, 3:, 3:] = np.diag(self.multipliers)
        forcing_slope = 1.0 - np.tanh(x @ self.forcing.T) ** 2
        input_jacobian = np.concatenate([rk4_step_jacobian(lorenz_vector_field, lorenz_jacobian, x, DT),
                                         forcing_slope[:, :, None] * self.forcing], axis=1)
        return self.step(x_t, state), torch.from_numpy(state_jacobian), torch.from_numpy(input_jacobian)

    def trajectory(self, x, h0):
        state, states = h0, []
        for t in range(x.shape[1]):
            state = self.step(x[:, t], state)
            states.append(state)
        states = torch.stack(states, dim=1)
        return states, states


def test_embedded_lorenz_intrinsic_exponents_are_lorenz_and_the_contractions_spurious():
    model = EmbeddedLorenz()
    batch, n_transient, n_steps = 8, 500, 3000
    signal = integrate_lorenz(lorenz_initial_states(np.random.default_rng(3), batch), dt=DT,
                              n_steps=n_transient + n_steps, n_transient=1000)
    start = np.concatenate([signal[:, 0], np.zeros((batch, RATES.size))], axis=1)
    closed = closed_loop_spectrum(model, start, n_steps=n_steps, n_transient=n_transient, dt=DT,
                                  rng=np.random.default_rng(4))
    driven = conditional_spectrum(model, signal[:, :-1], np.zeros((batch, 6)), n_transient=n_transient, dt=DT,
                                  rng=np.random.default_rng(5))

    # Driven: the contractions exactly (a constant diagonal block, aligned after the transient), and
    # three annihilated directions, whose QR diagonal is round-off (log ~1e-16 per step) or zero.
    np.testing.assert_allclose(driven.mean()[:3], np.sort(RATES)[::-1], rtol=0, atol=1e-8)
    assert np.all(driven.mean()[3:] < -1000.0)

    with np.errstate(invalid="ignore"):  # the spread of -inf exponents is undefined (NaN), and unused
        driven_error = driven.standard_error()
    split = intrinsic_exponents(closed.mean(), closed.standard_error(), driven.mean(), driven_error, dt=DT)
    # Closed loop, sorted: 0.906, 0, -2, -5, -14.57, -30; a reading by rank would take -2 for λ3.
    np.testing.assert_array_equal(split.intrinsic, [0, 1, 4])
    np.testing.assert_array_equal(split.pairs, [[2, 0], [3, 1], [5, 2]])
    intrinsic = closed.mean()[split.intrinsic]
    standard_error = closed.standard_error()[split.intrinsic]
    # Lorenz's exponents within 4 standard errors of the batch mean (8 trajectories of 30 time
    # units: about 0.012 for λ1), plus 2e-3 for the 4-digit reference of Sprott (RK4 at dt = 0.001).
    np.testing.assert_array_less(np.abs(intrinsic - np.array(LYAPUNOV_SPECTRUM)), 4.0 * standard_error + 2e-3)
    # The sum of the intrinsic exponents is the mean divergence of the flow, −(σ + 1 + β), up to the
    # RK4 map's bias at dt = 0.01 (+1.0e-4) and the finite-time spread of the three contractions
    # that the total (exactly log|det| per step) loses to them: 4 standard errors of the sum.
    per_trajectory = closed.exponents[:, split.intrinsic].sum(axis=1)
    sum_error = per_trajectory.std(ddof=1) / np.sqrt(batch)
    assert abs(per_trajectory.mean() - LYAPUNOV_SUM) < 4.0 * sum_error + 2e-4


# --- the matching rule ------------------------------------------------------------------------------

def test_matching_is_one_to_one_within_n_standard_errors():
    closed = np.array([0.9, 0.0, -2.0, -2.05, -10.0])
    closed_se = np.array([0.01, 0.01, 0.01, 0.01, 0.1])
    conditional = np.array([-2.02, -10.35, -40.0])
    conditional_se = np.array([0.0, 0.05, 1.0])
    split = intrinsic_exponents(closed, closed_se, conditional, conditional_se, dt=1.0, n_sigma=3.0)
    # -2.0 and -2.05 both lie within 3·0.01 of -2.02, but only one conditional exponent is there:
    # the nearer (in units of its tolerance), -2.0 (|0.02| vs |0.03|), is matched. -10.0 vs -10.35:
    # 0.35 > 3 · hypot(0.1, 0.05) = 0.335, not matched; with n_sigma = 4 (0.447) it is.
    np.testing.assert_array_equal(split.intrinsic, [0, 1, 3, 4])
    np.testing.assert_array_equal(split.pairs, [[2, 0]])
    wider = intrinsic_exponents(closed, closed_se, conditional, conditional_se, dt=1.0, n_sigma=4.0)
    np.testing.assert_array_equal(wider.pairs, [[2, 0], [4, 1]])
    np.testing.assert_allclose(wider.tolerance, [4.0 * 0.01, 4.0 * np.hypot(0.1, 0.05)])


def test_matching_maximises_the_number_of_pairs():
    # Greedy nearest matching would pair -1.00 with -1.01 and leave -1.04 unmatched; the assignment
    # pairs -1.00 with -0.98 and -1.04 with -1.01 instead (both compatible at tolerance 0.04).
    split = intrinsic_exponents(np.array([-1.00, -1.04]), np.full(2, 0.01),
                                np.array([-0.98, -1.01]), np.full(2, 0.0), dt=1.0, n_sigma=4.0)
    assert split.intrinsic.size == 0
    np.testing.assert_array_equal(split.pairs, [[0, 0], [1, 1]])


def test_matching_floor_relative_tolerance_and_infinities():
    closed = np.array([-1.0, -5.0, -np.inf])
    zero = np.zeros(3)
    conditional = np.array([-1.0 - 0.5 * ROUND_OFF_PER_STEP, -5.2, -np.inf])
    # Standard errors 0: the round-off floor alone accepts the first pair; -inf matches -inf.
    split = intrinsic_exponents(closed, zero, conditional, np.array([0.0, 0.0, np.nan]), dt=1.0)
    np.testing.assert_array_equal(split.pairs, [[0, 0], [2, 2]])
    np.testing.assert_array_equal(split.intrinsic, [1])
    # A 5 % relative tolerance accepts -5 against -5.2 (0.2 <= 0.05 · 5.2 = 0.26).
    relaxed = intrinsic_exponents(closed, zero, conditional, zero, dt=1.0, rtol=0.05)
    assert relaxed.intrinsic.size == 0
    # The floor is 1e-7 per step, ROUND_OFF_PER_STEP / dt per unit time: a difference of 1e-6
    # separates two exponents per step (dt = 1), not two per unit time at dt = 0.01 (floor 1e-5).
    apart = (closed[:1], zero[:1], conditional[:1] - 1e-6, zero[:1])
    assert intrinsic_exponents(*apart, dt=1.0).intrinsic.tolist() == [0]
    assert intrinsic_exponents(*apart, dt=0.01).intrinsic.size == 0


def test_matching_rejects_undefined_standard_errors():
    with pytest.raises(ValueError, match="standard errors"):
        intrinsic_exponents(np.array([0.9, -1.0]), np.array([np.nan, 0.1]), np.array([-1.0]), np.array([0.1]),
                            dt=1.0)
    with pytest.raises(ValueError, match="1-D"):
        intrinsic_exponents(np.array([0.9, -1.0]), np.array([0.1]), np.array([-1.0]), np.array([0.1]), dt=1.0)
