"""The flip-flop stage (claim ``flipflop``): trained networks store memories as stable fixed points.

A small RNN (tanh "vanilla", GRU) is trained on the 3-bit flip-flop task (Sussillo & Barak 2013).
Its fixed points under zero input are found by minimising q = 1/2 ||F(h) - h||^2 from states
visited on test trials plus noise (Golub & Sussillo 2018), refined by Newton's method,
deduplicated and classified by the eigenvalues of the Jacobian. The claim: eight stable fixed
points, one per memory, each reading out its 3-bit code, plus saddles between them; each saddle with
one unstable direction connects two memories one bit apart (its unstable manifold's two branches
end on them), and every edge of the cube of codes has such a saddle.

Jobs: :func:`data_job` here (no torch); the training and analysis jobs, which run networks, in
:mod:`rnndyn.stages.flipflop_networks`; the figure in :mod:`rnndyn.plotting.flipflop`.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from rnndyn.analysis.replicates import median_interval
from rnndyn.claims import Claim, claim_holds
from rnndyn.systems.tasks import flip_flop

if TYPE_CHECKING:
    from rnndyn.jobs import Job

N_BITS = 3
SPLITS = ("train", "val", "test")
# "Solves the task": at most 1 % of the (trial, step, bit) outputs on the wrong side of zero (our
# declared choice).
ACCURACY_THRESHOLD = 0.99
# The figure (STAGE_FIGURES["flipflop"] in workflow/rules/flipflop.smk): the lowest-validation-loss
# replicate of every architecture, its accuracy in the panel title, its fixed points and the saddles'
# unstable directions.
FIGURE = "flipflop_fixed_points"


def data_job(job: Job) -> None:
    """Job ``flipflop_data``: the trials of every split (config ``flipflop.data``), from the stream ``data``."""
    data = task_data(job.streams.numpy("data"), job.config)
    job.log.info("trials: %s", {split: data.sizes[f"trial_{split}"] for split in SPLITS})
    job.write(data)


def task_data(rng: np.random.Generator, cfg: dict[str, Any]) -> xr.Dataset:
    """Flip-flop trials for training, validation and test (the data rule).

    Parameters
    ----------
    rng
        Source of the pulses.
    cfg
        The ``flipflop.data`` section: ``n_train``, ``n_val``, ``n_test``, ``n_steps``, ``pulse_prob``.

    Returns
    -------
    xarray.Dataset
        ``inputs_<split>`` and ``targets_<split>`` (trial_<split>, t, bit).
    """
    variables = {}
    for split in SPLITS:
        inputs, targets = flip_flop(rng, n_trials=cfg[f"n_{split}"], n_steps=cfg["n_steps"], n_bits=N_BITS,
                                    pulse_prob=cfg["pulse_prob"])
        dims = (f"trial_{split}", "t", "bit")
        variables[f"inputs_{split}"] = (dims, inputs, {"long_name": f"input pulses ({split})", "units": "1"})
        variables[f"targets_{split}"] = (dims, targets, {"long_name": f"target bits ({split})", "units": "1"})
    return xr.Dataset(variables, attrs={"title": "3-bit flip-flop trials", "pulse_prob": cfg["pulse_prob"]})


def memory_codes(readout: np.ndarray, is_stable: np.ndarray) -> dict[str, Any]:
    """Which 3-bit codes the stable fixed points read out.

    Returns
    -------
    dict
        ``count`` (8,): stable fixed points whose read-out signs equal each code (codes in
        :func:`all_codes` order); ``n_matched``: codes with exactly one stable fixed point;
        ``max_deviation``: max |read-out - code| over the stable points.
    """
    codes = all_codes()
    signs = np.sign(readout[is_stable])
    count = np.array([int(np.all(signs == code, axis=1).sum()) for code in codes])
    deviation = np.abs(readout[is_stable] - signs).max() if signs.size else np.nan
    return {"count": count, "n_matched": int((count == 1).sum()), "max_deviation": float(deviation)}


def all_codes() -> np.ndarray:
    """The 2^3 memories (+-1, +-1, +-1), (8, 3)."""
    return np.array(list(itertools.product((-1.0, 1.0), repeat=N_BITS)))


def cube_edges() -> set[frozenset[tuple[float, ...]]]:
    """The 12 pairs of memories one bit apart (the edges of the cube of codes), each a frozenset of two
    code tuples: a single pulse flips one bit, so these are the transitions a saddle mediates."""
    codes = [tuple(c) for c in all_codes()]
    return {frozenset((a, b)) for a, b in itertools.combinations(codes, 2)
            if sum(x != y for x, y in zip(a, b)) == 1}


def claims(ds: xr.Dataset) -> list[Claim]:
    """The ``flipflop`` claims, per architecture, each a finding on the median over replicates with
    its min-max interval: the networks solve the task; they hold 8 stable fixed points reading out the 8
    codes; they have saddles with one unstable direction; each such saddle connects two memories one
    bit apart (its unstable manifold's branches end on them); every cube edge has such a saddle."""
    out = []
    n_codes = 2**N_BITS
    n_edges = int(ds.attrs["n_cube_edges"])
    for arch in ds["arch"].values:
        a = ds.sel(arch=arch)
        every = "; ".join(
            f"replicate {int(s)}: accuracy {float(r['accuracy']):.4f}, {int(r['n_stable'])} stable, "
            f"{int(r['n_codes_matched'])} codes, {int(r['n_saddle_1'])} one-unstable saddles "
            f"({int(r['n_connecting'])} connecting, {int(r['n_edges'])} edges), "
            f"{int(r['n_saddle']) - int(r['n_saddle_1'])} higher-index ({r['status'].item()})"
            for s, r in ((s, a.sel(replicate=s)) for s in a["replicate"].values))
        acc, acc_interval = median_interval(a["accuracy"].values)
        # Accuracy cannot exceed 1, so accuracy >= ACCURACY_THRESHOLD is |accuracy - 1| <= 1 - threshold.
        out.append(claim_holds(
            f"flipflop/accuracy/{arch}", f"test accuracy of the {arch} networks, median over replicates",
            kind="finding", criterion="=±tol", figure=FIGURE,
            measured=acc, expected=1.0, tolerance=1.0 - ACCURACY_THRESHOLD, passed=acc >= ACCURACY_THRESHOLD,
            note=f"{acc_interval}; expected 1: the task is solvable exactly; solved if >= {ACCURACY_THRESHOLD:g} "
                 f"(accuracy <= 1, so this is 1 +- {1.0 - ACCURACY_THRESHOLD:.2g}), tolerance our declared "
                 f"choice; {every}"))
        n_stable, stable_interval = median_interval(a["n_stable"].values)
        n_matched, matched_interval = median_interval(a["n_codes_matched"].values)
        out.append(claim_holds(
            f"flipflop/stable_fixed_points/{arch}",
            f"stable fixed points of the {arch} networks, one per 3-bit memory with matching read-out, median "
            f"over replicates",
            kind="finding", criterion="=", figure=FIGURE,
            measured=n_stable, expected=n_codes, passed=n_stable == n_codes and n_matched == n_codes,
            note=f"stable points: {stable_interval}; codes read out by exactly one stable point: {matched_interval}; "
                 f"expected {n_codes} = 2^{N_BITS} stable points, one per memory (STUDY.md; Sussillo & Barak 2013), "
                 f"an exact count: passes when both medians are {n_codes}; {every}"))
        n_saddle, saddle_interval = median_interval(a["n_saddle_1"].values)
        out.append(claim_holds(
            f"flipflop/saddles/{arch}",
            f"saddles with exactly one unstable direction (one Jacobian eigenvalue |lambda| > 1) of the {arch} "
            f"networks, median over replicates",
            kind="finding", criterion=">=", figure=FIGURE,
            measured=n_saddle, expected=1.0, passed=n_saddle >= 1,
            note=f"{saddle_interval}; STUDY.md expects saddles beside the 8 stable points (Sussillo & Barak 2013 "
                 f"find one-unstable saddles between attractors): passes when the median is >= 1; saddles are "
                 f"searched from test-trial states and from midpoints of pairs of stable points, so a saddle the "
                 f"search misses is not counted; {every}"))
        # A replicate without one-unstable saddles has no fraction; the saddles claim above counts it.
        with_saddles = a["n_saddle_1"].values > 0
        fraction = a["n_connecting"].values[with_saddles] / a["n_saddle_1"].values[with_saddles]
        connecting, connecting_interval = median_interval(fraction) if fraction.size else (np.nan, "no replicate")
        out.append(claim_holds(
            f"flipflop/saddle_connects_memories/{arch}",
            f"fraction of one-unstable saddles of the {arch} networks whose unstable manifold's two branches end "
            f"on the stable points of two codes one bit apart, median over replicates",
            kind="finding", criterion="=", figure=FIGURE,
            measured=connecting, expected=1.0, passed=connecting == 1.0,
            note=f"{connecting_interval} ({int((~with_saddles).sum())} replicate(s) without such saddles left "
                 f"out); expected 1: a saddle between "
                 f"two memories (Sussillo & Barak 2013, Fig. 3) has them at the ends of its unstable manifold; "
                 f"checked by running the autonomous map from the saddle +- {ds.attrs.get('branch_step', 'a step')} "
                 f"along the unstable eigenvector until it lands on a stable point: within "
                 f"{ds.attrs['landing_fraction']:g} of that point's distance to the next memory (our declared "
                 f"choice); {every}"))
        edges, edge_interval = median_interval(a["n_edges"].values)
        out.append(claim_holds(
            f"flipflop/saddle_edges/{arch}",
            f"edges of the cube of codes (pairs one bit apart) joined by a connecting one-unstable saddle, "
            f"{arch} networks, median over replicates",
            kind="finding", criterion="=", figure=FIGURE,
            measured=edges, expected=n_edges, passed=edges == n_edges,
            note=f"{edge_interval}; expected {n_edges}: a single pulse flips one bit, so each of the cube's "
                 f"{n_edges} edges is a transition between memories, which a saddle on the basin boundary "
                 f"mediates (our reading of Sussillo & Barak 2013, Fig. 3); an exact count, failing when the "
                 f"search misses a saddle as well as when the network has none; {every}"))
    return out
