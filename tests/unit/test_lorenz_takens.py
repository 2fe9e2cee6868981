"""The Takens topology path of the Lorenz stage on clouds whose loops are known (claim `takens`).

Every test goes through :func:`cloud_topology` (or :func:`topology_sweep`) with the settings the
pipeline runs: config/config.yaml's ``lorenz.analysis.takens`` with the schema's defaults filled in.
A limit cycle has one loop, a figure-eight two, a noise ball none, Lorenz's attractor two (its
lobes); the path must say so, including "none".
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
import yaml
from scipy.integrate import solve_ivp

from rnndyn.analysis.embedding import state_cloud
from rnndyn.config import load_schema, validate_config
from rnndyn.stages.lorenz_takens import cloud_topology, sweep_variables, topology_sweep, topology_variables
from rnndyn.systems.lorenz import integrate_lorenz, lorenz_initial_states
from tests.conftest import REPO, SCHEMA


@pytest.fixture(scope="module")
def takens() -> dict:
    """The pipeline's ``lorenz.analysis.takens`` settings (config.yaml, schema defaults filled in)."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    return validate_config(config, load_schema(SCHEMA))["lorenz"]["analysis"]["takens"]


def _van_der_pol_cycle(n: int, rng: np.random.Generator) -> np.ndarray:
    """n samples of the stable limit cycle of van der Pol's oscillator (mu = 1) in time order, with
    Gaussian noise of 2 % of the cycle's amplitude."""
    def field(_, s):
        return [s[1], (1.0 - s[0] ** 2) * s[1] - s[0]]

    t = 30.0 + np.linspace(0.0, 4 * 6.66, n)  # four periods after the transient
    cycle = solve_ivp(field, (0.0, t[-1]), [0.5, 0.0], t_eval=t, rtol=1e-8, atol=1e-8).y.T
    return cycle + 0.02 * 2.0 * rng.standard_normal(cycle.shape)


def _gerono_lemniscate(n: int, rng: np.random.Generator) -> np.ndarray:
    """n points of the figure-eight (cos t, sin t cos t), t uniform, with Gaussian noise of 0.02."""
    t = rng.uniform(0.0, 2.0 * np.pi, n)
    return np.column_stack([np.cos(t), np.sin(t) * np.cos(t)]) + 0.02 * rng.standard_normal((n, 2))


@pytest.fixture(scope="module")
def lorenz_cloud(takens) -> np.ndarray:
    """The stage's default truth cloud: 16 runs x 5,000 steps of 0.01, every ``cloud_stride``-th state."""
    rng = np.random.default_rng(1)
    runs = integrate_lorenz(lorenz_initial_states(rng, 16), dt=0.01, n_steps=4999, n_transient=1000)
    return state_cloud(runs, takens["cloud_stride"])


def test_limit_cycle_has_one_loop(takens):
    rng = np.random.default_rng(2)
    topo = cloud_topology(_van_der_pol_cycle(400, rng), takens, rng)
    assert topo.n_dominant_h1 == 1 and topo.n_dominant_h1_unfiltered == 1
    # One loop: the second bar is noise, far below half the first.
    assert topo.h1_ratio_2 < 0.1 and topo.h1_unfiltered_ratio_2 < 0.1


def test_figure_eight_has_two_loops(takens):
    rng = np.random.default_rng(3)
    topo = cloud_topology(_gerono_lemniscate(400, rng), takens, rng)
    assert topo.n_dominant_h1 == 2 and topo.n_dominant_h1_unfiltered == 2
    # The lobes are mirror images: the third bar is noise.
    assert topo.h1_ratio_3 < 0.1 and topo.h1_unfiltered_ratio_3 < 0.1


def test_noise_ball_has_no_loop(takens):
    # More points than landmarks, as in the pipeline's clouds: the landmarks' covering radius is then
    # the resolution below which a bar is not certified, and every bar of Gaussian noise is below it.
    rng = np.random.default_rng(4)
    topo = cloud_topology(rng.standard_normal((3 * takens["n_landmarks"], 3)), takens, rng)
    assert topo.n_dominant_h1 == 0 and topo.n_dominant_h1_unfiltered == 0
    assert topo.h1_min_persistence > 0 and topo.h1_unfiltered_min_persistence > 0
    # Noise has many bars of similar length: the relative criterion alone would count several.
    assert topo.h1_ratio_2 > takens["dominant_fraction"]


def test_lorenz_attractor_has_two_loops(takens, lorenz_cloud):
    topo = cloud_topology(lorenz_cloud, takens, np.random.default_rng(5))
    assert topo.n_dominant_h1 == 2
    assert topo.h1_ratio_2 >= takens["dominant_fraction"] > topo.h1_ratio_3
    # D2 of the same cloud: Grassberger & Procaccia's 2.05 +- 0.01 meets the bootstrap interval.
    d2 = topo.dimension
    assert d2.low - 0.01 <= 2.05 <= d2.high + 0.01
    assert d2.r_min < d2.r_max and np.count_nonzero(d2.in_fit) >= 2


def test_sweep_applies_the_same_path_per_filter(takens):
    points = _gerono_lemniscate(300, np.random.default_rng(6))
    topo = cloud_topology(points, takens, np.random.default_rng(7))
    fractions = [0.2, takens["dominant_fraction"], 0.9]
    sweep = topology_sweep(points, [takens["density_keep"], 1.0], fractions, takens, np.random.default_rng(7))
    # Same random draws in the same order (a first landmark per filter): the same diagrams.
    middle = fractions.index(takens["dominant_fraction"])
    assert sweep.n_dominant[:, middle].tolist() == [topo.n_dominant_h1, topo.n_dominant_h1_unfiltered]
    np.testing.assert_array_equal(sweep.persistence[0], (topo.h1[:, 1] - topo.h1[:, 0])[:3])
    assert sweep.min_persistence.tolist() == [topo.h1_min_persistence, topo.h1_unfiltered_min_persistence]
    # A larger fraction never counts more bars.
    assert np.all(np.diff(sweep.n_dominant, axis=1) <= 0)


def test_unfiltered_is_the_same_path_without_the_filter(takens):
    points = _gerono_lemniscate(300, np.random.default_rng(8))
    topo = cloud_topology(points, {**takens, "density_keep": 1.0}, np.random.default_rng(9))
    np.testing.assert_array_equal(topo.h1_unfiltered, topo.h1)
    assert topo.n_dominant_h1_unfiltered == topo.n_dominant_h1
    assert (topo.h1_unfiltered_ratio_2, topo.h1_unfiltered_ratio_3) == (topo.h1_ratio_2, topo.h1_ratio_3)


def test_variables_form_a_dataset(takens):
    rng = np.random.default_rng(10)
    points = rng.standard_normal((3_000, 3))
    few_landmarks = {**takens, "n_landmarks": 100}  # the layout, not the verdict, is tested here
    topo = cloud_topology(points, few_landmarks, rng)
    sweep = topology_sweep(points, [0.5, 1.0], [0.3, 0.5], few_landmarks, rng)
    data = xr.Dataset({**topology_variables("ball", "noise ball", topo),
                       **sweep_variables("ball", "noise ball", sweep)})
    assert data["ball_d2_local_slope"].dims == data["ball_d2_radius"].dims == ("ball_d2_r",)
    assert data["ball_sweep_n_dominant_h1"].dims == ("sweep_keep", "sweep_fraction")
    assert data["sweep_keep"].values.tolist() == [0.5, 1.0]
    for name in ("d2", "d2_low", "d2_high", "d2_r_min", "d2_r_max", "d2_support", "n_dominant_h1_unfiltered",
                 "h1_ratio_2", "h1_ratio_3", "h1_unfiltered_ratio_2", "h1_unfiltered_ratio_3", "h1_min_persistence"):
        assert data[f"ball_{name}"].dims == ()
    assert float(data["ball_d2_low"]) <= float(data["ball_d2"]) <= float(data["ball_d2_high"])


def test_nolds_gives_one_estimate_per_series(takens):
    """nolds' cross-check runs on ``nolds_series`` series one by one, not on the first alone: sines
    (delay embeddings of a circle) come out near 1 (1.2: nolds fits radii up to half a standard
    deviation, where the curve bends) and Lorenz's x near its 2.05 (1.85-1.9 at these radii); series
    past ``nolds_series`` are not used."""
    from rnndyn.stages.lorenz_takens import nolds_d2

    rng = np.random.default_rng(3)
    n = takens["nolds_series"]
    sines = np.sin(2 * np.pi * np.arange(4000)[None, :] / 97 + rng.uniform(0, 2 * np.pi, (n // 2, 1)))
    runs = integrate_lorenz(lorenz_initial_states(rng, n - n // 2), dt=0.01, n_steps=3999, n_transient=1000)
    x = (runs[..., 0] - runs[..., 0].mean()) / runs[..., 0].std()
    d2 = nolds_d2(np.concatenate([sines, x, np.zeros((2, 4000))]), lag=16, cfg=takens)
    assert d2.shape == (n,)
    assert np.all(np.abs(d2[: n // 2] - 1.0) < 0.25)
    assert np.all((d2[n // 2:] > 1.7) & (d2[n // 2:] < 2.2))


def test_nolds_range_is_the_interval_of_the_cross_check(takens):
    from rnndyn.stages.lorenz_takens import scalar_variables

    ds = xr.Dataset(scalar_variables("x", "a series", np.zeros(5), np.array([1.9, 2.1, 2.0, np.nan])))
    assert (float(ds["x_d2_nolds"]), float(ds["x_d2_nolds_low"]), float(ds["x_d2_nolds_high"])) == (2.0, 1.9, 2.1)
    empty = xr.Dataset(scalar_variables("x", "a series", np.zeros(5), np.full(4, np.nan)))
    assert np.isnan(float(empty["x_d2_nolds"])) and np.isnan(float(empty["x_d2_nolds_low"]))


def test_agreement_tolerance_adds_the_half_widths_that_face_each_other():
    from rnndyn.stages.lorenz import agreement_tolerance

    # ours 2.0 [1.9, 2.3], theirs 2.5 [2.2, 2.6]: ours reaches up by 0.3, theirs down by 0.3.
    assert agreement_tolerance((2.0, 1.9, 2.3), (2.5, 2.2, 2.6)) == pytest.approx(0.6)
    # the other way round: ours reaches down by 0.1, theirs up by 0.1.
    assert agreement_tolerance((2.5, 2.4, 2.9), (2.0, 1.5, 2.1)) == pytest.approx(0.2)
    assert np.isnan(agreement_tolerance((2.0, np.nan, np.nan), (2.5, 2.2, 2.6)))
