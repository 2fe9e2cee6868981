"""The flip-flop stage (claim ``flipflop``): trained networks store memories as stable fixed points.

A small RNN (tanh "vanilla", GRU) is trained on the 3-bit flip-flop task (Sussillo & Barak 2013).
Its fixed points under zero input are found by minimising q = 1/2 ||F(h) - h||^2 from states
visited on test trials plus noise (Golub & Sussillo 2018), refined by Newton's method,
deduplicated and classified by the eigenvalues of the Jacobian. The claim: eight stable fixed
points, one per memory, each reading out its 3-bit code, plus saddles between them.

Jobs: :func:`data_job` here (no torch); the training and analysis jobs, which run networks, in
:mod:`rnndyn.stages.flipflop_networks`; the figure in :mod:`rnndyn.plotting.flipflop`.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from rnndyn.analysis.replicates import best_replicate
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
# replicate of every architecture, its accuracy in the panel title and its fixed points.
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


def claims(ds: xr.Dataset) -> list[Claim]:
    """The ``flipflop`` claims: per architecture, the replicate with the lowest validation loss solves
    the task and has 8 stable fixed points reading out the 8 codes; every replicate is reported too."""
    out = []
    n_codes = 2**N_BITS
    for arch in ds["arch"].values:
        a = ds.sel(arch=arch)
        b = best_replicate(a)
        every = "; ".join(
            f"replicate {int(s)}: accuracy {float(r['accuracy']):.4f}, {int(r['n_stable'])} stable, "
            f"{int(r['n_saddle'])} saddles, {int(r['n_codes_matched'])} codes ({r['status'].item()})"
            for s, r in ((s, a.sel(replicate=s)) for s in a["replicate"].values))
        n_replicates = int(a.sizes["replicate"])
        best = int(b["replicate"])
        acc = float(b["accuracy"])
        # Accuracy cannot exceed 1, so accuracy >= ACCURACY_THRESHOLD is |accuracy - 1| <= 1 - threshold.
        out.append(claim_holds(
            f"flipflop/accuracy/{arch}",
            f"test accuracy of the {arch} network (replicate with the lowest validation loss)",
            kind="finding", criterion="=±tol", figure=FIGURE,
            measured=acc, expected=1.0, tolerance=1.0 - ACCURACY_THRESHOLD, passed=acc >= ACCURACY_THRESHOLD,
            note=f"finding over {n_replicates} replicate(s), judged on one network (replicate {best}, the lowest "
                 f"validation loss), not on an interval; expected 1: the task is solvable exactly; solved if "
                 f">= {ACCURACY_THRESHOLD:g} (accuracy <= 1, so this is 1 +- {1.0 - ACCURACY_THRESHOLD:.2g}), "
                 f"tolerance our declared choice; {every}"))
        out.append(_memories_claim(
            f"flipflop/stable_fixed_points/{arch}", arch, b, n_codes, figure=FIGURE,
            note=f"finding over {n_replicates} replicate(s), judged on one network (replicate {best}, the lowest "
                 f"validation loss), not on an interval"))
        for replicate in a["replicate"].values:
            out.append(_memories_claim(
                f"flipflop/stable_fixed_points/{arch}/replicate={int(replicate)}", arch,
                a.sel(replicate=replicate), n_codes, figure=FIGURE if int(replicate) == best else "",
                note=f"finding on one network, replicate {int(replicate)} of {n_replicates}"
                     + ("" if int(replicate) == best else f" (the figure shows replicate {best} only)")))
    return out


def _memories_claim(claim_id: str, arch: str, run: xr.Dataset, n_codes: int, figure: str, note: str) -> Claim:
    n_stable, n_matched = int(run["n_stable"]), int(run["n_codes_matched"])
    return claim_holds(
        claim_id, f"stable fixed points of the {arch} network, one per 3-bit memory with matching read-out",
        kind="finding", criterion="=", figure=figure,
        measured=n_stable, expected=n_codes, passed=n_stable == n_codes and n_matched == n_codes,
        note=f"{note}; expected {n_codes} = 2^{N_BITS} stable points, one per memory (STUDY.md; Sussillo & Barak "
             f"2013), an exact count: passes when the count is {n_codes} and each code is read out by exactly one "
             f"stable point (saddles are counted, not required); "
             f"{n_matched}/{n_codes} codes read out by exactly one stable point; "
             f"{int(run['n_saddle'])} saddles; max |read-out - code| {float(run['readout_deviation']):.3g}; "
             f"accuracy {float(run['accuracy']):.4f}")
