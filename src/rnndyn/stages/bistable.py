"""The bistable-neuron stage (claim ``bistable``): trajectories, bifurcation scan, claims.

h_{t+1} = tanh(w h_t + b). At b = 0 a pitchfork at w = 1 turns one stable state into two; for
w > 1 the two stable states coexist while |b| < |b_c(w)| = w s − artanh(s), s = √(1 − 1/w),
the fold lines meeting in a cusp at (1, 0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from rnndyn.analysis.bifurcation import (
    bistable_fixed_points,
    bistable_multiplier,
    fold_boundary_formula,
    locate_fold,
    locate_pitchfork,
)
from rnndyn.claims import Claim, claim_close, claim_holds
from rnndyn.systems.bistable import simulate_bistable

if TYPE_CHECKING:
    from rnndyn.jobs import Job

# STUDY.md's reference values at b = 0, printed to three decimals (tolerance: half a last digit).
REFERENCE_H_STAR = {1.1: 0.503, 1.5: 0.859, 2.0: 0.958, 3.0: 0.995}
REFERENCE_B_C = {1.1: 0.020, 1.5: 0.208, 2.0: 0.533, 3.0: 1.303}
REFERENCE_DIGITS_TOL = 5e-4
PITCHFORK_TOL = 0.005
FOLD_TOL = 1e-3
# Next to the cusp the two critical points of tanh(w h + b) − h are closer than any practical
# bracketing grid resolves, so the fold is measured only for w > 1 + CUSP_EXCLUSION.
CUSP_EXCLUSION = 1e-3
FIGURE_BIFURCATION, FIGURE_MAP = "bistable_bifurcation", "bistable_stability_map"
"""The stage's figures (STAGE_FIGURES in workflow/rules/bistable.smk) where its claims can be seen."""


def grid(spec: dict[str, Any]) -> np.ndarray:
    """``numpy.linspace`` from a config grid ``{start, stop, num}``."""
    return np.linspace(spec["start"], spec["stop"], spec["num"])


def trajectories(cfg: dict[str, Any]) -> xr.Dataset:
    """Trajectories from the config's grids of w, b and h0 (the data rule)."""
    return simulate_bistable(grid(cfg["w"]), grid(cfg["b"]), grid(cfg["h0"]), cfg["n_steps"])


def _fixed_point_table(w: np.ndarray, b: np.ndarray, n_grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed points (W, B, 3) and their multipliers on the grid w × b."""
    ww, bb = np.meshgrid(w, b, indexing="ij")
    roots = bistable_fixed_points(ww.ravel(), bb.ravel(), n_grid=n_grid).reshape(w.size, b.size, 3)
    return roots, bistable_multiplier(roots, ww[..., None])


def analyse(traj: xr.Dataset, cfg: dict[str, Any]) -> xr.Dataset:
    """The bifurcation scan and the check of the simulated end states (the analysis rule).

    Parameters
    ----------
    traj
        The data rule's trajectories, dims (w, b, h0, t).
    cfg
        The ``bistable.analysis`` config section.

    Returns
    -------
    xarray.Dataset
        Fixed points and stability on a fine (w, b) grid, the bifurcation diagram at b = 0, the
        located pitchfork, measured and analytic fold boundaries, and per-trajectory agreement of
        end states with stable fixed points.
    """
    n_grid = cfg["n_grid"]
    w_fine, b_fine = grid(cfg["w_fine"]), grid(cfg["b_fine"])
    roots, mult = _fixed_point_table(w_fine, b_fine, n_grid)
    stable = np.abs(mult) < 1.0
    b0_roots, b0_mult = _fixed_point_table(w_fine, np.array([0.0]), n_grid)

    w_fold = w_fine[w_fine > 1.0 + CUSP_EXCLUSION]
    fold_measured = locate_fold(w_fold, n_grid=n_grid)
    w_ref = np.array(sorted(REFERENCE_H_STAR))
    ref_roots, _ = _fixed_point_table(w_ref, np.array([0.0]), n_grid)
    ref_fold = locate_fold(w_ref, n_grid=n_grid)

    end = traj["h"].isel(t=-1).values  # (W, B, H)
    data_roots, data_mult = _fixed_point_table(traj["w"].values, traj["b"].values, n_grid)
    # Only where every fixed point is hyperbolic by a margin is convergence within the simulated
    # horizon guaranteed (critical slowing down near a bifurcation makes it algebraic).
    margin = cfg["hyperbolic_margin"]
    hyperbolic = np.all(np.isnan(data_mult) | (np.abs(np.abs(data_mult) - 1.0) > margin), axis=-1)
    data_stable = np.where(np.abs(data_mult) < 1.0, data_roots, np.nan)  # (W, B, 3)
    gap = np.abs(end[..., None] - data_stable[:, :, None, :])  # (W, B, H, 3); NaN: no such point
    distance = np.where(np.isnan(gap), np.inf, gap).min(axis=-1)  # (W, B, H)
    end_ok = distance < cfg["end_state_tol"]
    nearest = gap < cfg["end_state_tol"]
    reached = nearest.any(axis=2) | np.isnan(data_stable)  # (W, B, 3)

    w_attrs = {"long_name": "recurrent weight", "units": "1"}
    b_attrs = {"long_name": "bias", "units": "1"}
    return xr.Dataset(
        {
            "fixed_point": (("w_fine", "b_fine", "branch"), roots,
                            {"long_name": "fixed point h*", "units": "1"}),
            "multiplier": (("w_fine", "b_fine", "branch"), mult,
                           {"long_name": "map derivative at the fixed point w(1 - h*^2)", "units": "1"}),
            "n_stable": (("w_fine", "b_fine"), stable.sum(axis=-1),
                         {"long_name": "number of stable fixed points", "units": "1"}),
            "fixed_point_b0": (("w_fine", "branch"), b0_roots[:, 0],
                               {"long_name": "fixed point h* at b = 0", "units": "1"}),
            "stable_b0": (("w_fine", "branch"), np.abs(b0_mult[:, 0]) < 1.0,
                          {"long_name": "fixed point at b = 0 is stable", "units": "1"}),
            "pitchfork_w": ((), locate_pitchfork(w_fine, n_grid=n_grid),
                            {"long_name": "located pitchfork weight at b = 0", "units": "1"}),
            "fold_b_measured": (("w_fold",), fold_measured,
                                {"long_name": "measured fold bias |b_c|", "units": "1"}),
            "fold_b_formula": (("w_fold",), fold_boundary_formula(w_fold),
                               {"long_name": "analytic fold bias w s - artanh(s)", "units": "1"}),
            "h_star_reference": (("w_reference",), ref_roots[:, 0, 2],
                                 {"long_name": "largest fixed point at b = 0", "units": "1"}),
            "fold_b_reference": (("w_reference",), ref_fold,
                                 {"long_name": "measured fold bias |b_c| at the reference weights", "units": "1"}),
            "end_state": (("w", "b", "h0"), end, {"long_name": "simulated final state", "units": "1"}),
            "end_state_distance": (("w", "b", "h0"), distance,
                                   {"long_name": "distance of the final state to the nearest stable fixed point",
                                    "units": "1"}),
            "end_state_agrees": (("w", "b", "h0"), end_ok,
                                 {"long_name": "final state within tolerance of a stable fixed point", "units": "1"}),
            "stable_point_reached": (("w", "b", "branch"), reached,
                                     {"long_name": "stable fixed point reached by some trajectory", "units": "1"}),
            "hyperbolic": (("w", "b"), hyperbolic,
                           {"long_name": "all fixed points hyperbolic by the margin", "units": "1"}),
        },
        coords={
            "w_fine": ("w_fine", w_fine, w_attrs), "b_fine": ("b_fine", b_fine, b_attrs),
            "w_fold": ("w_fold", w_fold, w_attrs), "w_reference": ("w_reference", w_ref, w_attrs),
            "w": ("w", traj["w"].values, w_attrs), "b": ("b", traj["b"].values, b_attrs),
            "h0": ("h0", traj["h0"].values, {"long_name": "initial state", "units": "1"}),
            "branch": ("branch", np.arange(3), {"long_name": "fixed-point index, increasing h*", "units": "1"}),
        },
        attrs={"title": "Bifurcation scan of the bistable neuron",
               "hyperbolic_margin": margin, "end_state_tol": cfg["end_state_tol"],
               "n_steps_simulated": int(traj.sizes["t"] - 1)},
    )


def claims(scan: xr.Dataset) -> list[Claim]:
    """The ``bistable`` claims of STUDY.md from the analysis dataset."""
    out = [
        claim_close("bistable/pitchfork_w", "pitchfork located at b = 0 (one fixed point becomes three)",
                    kind="theory", figure=FIGURE_BIFURCATION,
                    measured=float(scan["pitchfork_w"]), expected=1.0, tolerance=PITCHFORK_TOL,
                    note="expected: w = 1, where the map's slope at h = 0 crosses 1 (analytic); located by "
                         "bisection on the number of fixed points; tolerance ±0.005 as declared in STUDY.md "
                         "(our declared choice)"),
        claim_close("bistable/fold_boundary_max_error",
                    "max |measured − analytic| fold bias |b_c(w)| over the w grid (w > 1)",
                    kind="theory", figure=FIGURE_MAP,
                    measured=float(np.max(np.abs(scan["fold_b_measured"] - scan["fold_b_formula"]))),
                    expected=0.0, tolerance=FOLD_TOL,
                    note=f"{scan.sizes['w_fold']} weights in [{float(scan['w_fold'][0]):.3g}, "
                         f"{float(scan['w_fold'][-1]):.3g}]; expected: the analytic fold |b_c| = w s − artanh(s), "
                         "s = √(1 − 1/w) (tangency conditions); tolerance ±1e-3 as declared in STUDY.md "
                         "(our declared choice)"),
    ]
    for w in scan["w_reference"].values:
        w_key = f"{w:g}"
        out.append(claim_close(f"bistable/h_star_w={w_key}", f"stable fixed point h* at w = {w_key}, b = 0",
                               kind="theory", figure=FIGURE_BIFURCATION,
                               measured=float(scan["h_star_reference"].sel(w_reference=w)),
                               expected=REFERENCE_H_STAR[float(w)], tolerance=REFERENCE_DIGITS_TOL,
                               note="expected: STUDY.md's reference value, printed to 3 decimals; tolerance "
                                    "half its last digit (derived from the printed precision)"))
        out.append(claim_close(f"bistable/b_c_w={w_key}", f"fold bias |b_c| at w = {w_key}",
                               kind="theory", figure=FIGURE_MAP,
                               measured=float(scan["fold_b_reference"].sel(w_reference=w)),
                               expected=REFERENCE_B_C[float(w)], tolerance=REFERENCE_DIGITS_TOL,
                               note="expected: STUDY.md's reference value, printed to 3 decimals; tolerance "
                                    "half its last digit (derived from the printed precision)"))
    hyperbolic = scan["hyperbolic"]
    agrees = scan["end_state_agrees"].where(hyperbolic)
    n_traj = int(hyperbolic.sum()) * scan.sizes["h0"]
    fraction = float(agrees.sum()) / n_traj if n_traj else float("nan")
    out.append(claim_holds(
        "bistable/end_states_on_stable_fixed_points",
        "fraction of simulated trajectories ending on a stable fixed point (hyperbolic region)",
        kind="theory", criterion="=", figure=FIGURE_BIFURCATION,
        measured=fraction, expected=1.0, passed=fraction == 1.0,
        note=f"{n_traj} trajectories, {int(scan.attrs['n_steps_simulated'])} steps, "
             f"tolerance {scan.attrs['end_state_tol']:g}, margin {scan.attrs['hyperbolic_margin']:g}; "
             "expected: every trajectory converges to a stable fixed point of the scan (a scalar map with "
             "hyperbolic fixed points), so exactly all of them; the distance tolerance and the margin "
             "are our declared choices"))
    reached = scan["stable_point_reached"].where(hyperbolic)
    n_points = int(hyperbolic.sum()) * scan.sizes["branch"]
    reached_fraction = float(reached.sum()) / n_points if n_points else float("nan")
    out.append(claim_holds(
        "bistable/stable_fixed_points_reached",
        "fraction of (w, b, branch) slots whose stable fixed point (if any) some trajectory reaches",
        kind="theory", criterion="=", figure=FIGURE_BIFURCATION,
        measured=reached_fraction, expected=1.0, passed=reached_fraction == 1.0,
        note="every stable state predicted by the scan is found by simulation; expected: exactly all of "
             f"them; same distance tolerance ({scan.attrs['end_state_tol']:g}) and margin "
             f"({scan.attrs['hyperbolic_margin']:g}), our declared choices"))
    return out


def data_job(job: Job) -> None:
    """Job ``bistable_data``: trajectories over the config's (w, b, h0) grid (deterministic, no seed)."""
    traj = trajectories(job.config)
    job.log.info("simulated %s trajectories of %d steps", traj["h"].shape[:3], job.config["n_steps"])
    job.write(traj)


def analysis_job(job: Job) -> None:
    """Job ``bistable_analysis``: the bifurcation scan and the ``bistable`` claims."""
    scan = analyse(job.read(), job.config)
    job.write(scan, "scan")
    job.write_claims(claims(scan))
