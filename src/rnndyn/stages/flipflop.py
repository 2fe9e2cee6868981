"""The flip-flop stage (claim ``flipflop``): trained networks store memories as stable fixed points.

A small RNN (tanh "vanilla", GRU) is trained on the 3-bit flip-flop task (Sussillo & Barak 2013).
Its fixed points under zero input are found by minimising q = 1/2 ||F(h) - h||^2 from states
visited on test trials plus noise (Golub & Sussillo 2018), refined by Newton's method,
deduplicated and classified by the eigenvalues of the Jacobian. The claim: eight stable fixed
points, one per memory, each reading out its 3-bit code, plus saddles between them.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import numpy as np
import torch
import xarray as xr

from rnndyn.analysis.fixed_points import (
    FixedPoints,
    Map,
    constant_input_map,
    find_fixed_points,
    jacobians,
    sample_initial_states,
)
from rnndyn.claims import Claim, claim_holds
from rnndyn.models import RecurrentModel, build_model
from rnndyn.seeding import torch_generator
from rnndyn.models.parameters import load_model_parameters
from rnndyn.stages.runs import best_seed, training_store
from rnndyn.systems.tasks import flip_flop
from rnndyn.training import select_device, train

N_BITS = 3
SPLITS = ("train", "val", "test")
# "Solves the task": at most 1 % of the (trial, step, bit) outputs on the wrong side of zero.
ACCURACY_THRESHOLD = 0.99


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


def task_pairs(data: xr.Dataset, split: str, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets) of a split as tensors (N, T, 3)."""
    return (torch.as_tensor(data[f"inputs_{split}"].values, dtype=dtype),
            torch.as_tensor(data[f"targets_{split}"].values, dtype=dtype))


def build_network(arch: str, arch_cfg: dict[str, Any], generator: torch.Generator,
                  dtype: torch.dtype = torch.float32) -> RecurrentModel:
    """The network of family ``arch`` with 3 inputs, 3 outputs and ``hidden_size`` units."""
    return build_model(arch, input_size=N_BITS, hidden_size=arch_cfg["hidden_size"], output_size=N_BITS,
                       generator=generator, dtype=dtype, **arch_cfg.get("options", {}))


def train_network(data: xr.Dataset, arch: str, arch_cfg: dict[str, Any], *, init: torch.Generator,
                  batches: torch.Generator, device: str, checkpoint_path: str, log: logging.Logger) -> xr.Dataset:
    """Train one network on the flip-flop task with the shared trainer (MSE on the target bits).

    Returns
    -------
    xarray.Dataset
        Parameters and history (:func:`rnndyn.stages.runs.training_store`); a diverged run is
        stored with its status.
    """
    model = build_network(arch, arch_cfg, init)
    result = train(model, task_pairs(data, "train"), task_pairs(data, "val"), config=arch_cfg["train"],
                   seed=batches, device=select_device(device), checkpoint_path=checkpoint_path, log=log)
    return training_store(model, result)


def accuracy(model: RecurrentModel, data: xr.Dataset, split: str) -> float:
    """Fraction of (trial, step, bit) outputs whose sign equals the target bit."""
    inputs, targets = task_pairs(data, split, dtype=torch.float64)
    with torch.no_grad():
        outputs = model.double().eval()(inputs)[0]
    return float((torch.sign(outputs) == targets).double().mean())


def newton_polish(F: Map, points: torch.Tensor, n_steps: int) -> torch.Tensor:
    """Refine approximate fixed points of h <- F(h) by Newton's method on F(h) - h = 0.

    Gradient descent on q stalls near fixed points with a Jacobian eigenvalue close to 1 (there q
    is flat: a GRU's memories often sit at eigenvalues ~0.99), while Newton's step
    h <- h - (DF(h) - I)^{-1} (F(h) - h) converges quadratically wherever DF - I is invertible.
    The step is a least-squares solve, so a singular DF - I moves the point without failing; points
    that do not converge keep a large q and are rejected afterwards.

    Parameters
    ----------
    F
        The map, (B, d) -> (B, d), float64.
    points
        (B, d) starting points (e.g. minima of a coarse q descent).
    n_steps
        Newton iterations.

    Returns
    -------
    torch.Tensor
        (B, d) refined points.
    """
    h = points.detach().to(torch.float64).clone()
    identity = torch.eye(h.shape[1], dtype=h.dtype)
    for _ in range(n_steps):
        with torch.no_grad():
            residual = F(h) - h
        system = jacobians(F, h).detach() - identity
        h = h - torch.linalg.lstsq(system, residual.unsqueeze(-1)).solution.squeeze(-1)
    return h


def find_memories(model: RecurrentModel, data: xr.Dataset, cfg: dict[str, Any],
                  generator: torch.Generator) -> tuple[FixedPoints, np.ndarray, np.ndarray]:
    """Fixed points of the network under zero input, and its test-trial hidden states.

    Initial states are sampled from the states visited on the test trials plus Gaussian noise
    (Sussillo & Barak 2013); a coarse q descent (:func:`find_fixed_points` with tolerance
    ``q_tol_coarse``) is refined by :func:`newton_polish`, and the refined points are accepted,
    deduplicated and classified by :func:`find_fixed_points` with the strict ``q_tol``.

    Parameters
    ----------
    model
        Trained network (used in float64).
    data
        :func:`task_data` dataset (test split).
    cfg
        The ``flipflop.fixed_points`` section.
    generator
        Draws the initial states.

    Returns
    -------
    fixed_points : FixedPoints
        Deduplicated, classified fixed points (K, d).
    readout : numpy.ndarray
        (K, 3) network outputs at the fixed points.
    states : numpy.ndarray
        (N_test, T, d) hidden states on the test trials.
    """
    model = model.double().eval()
    inputs, _ = task_pairs(data, "test", dtype=torch.float64)
    with torch.no_grad():
        _, states = model(inputs)
    F = constant_input_map(lambda h, u: model.step(u, h), torch.zeros(N_BITS, dtype=torch.float64))
    initial = sample_initial_states(states, cfg["n_initial_states"], noise_std=cfg["noise_std"], generator=generator)
    coarse = find_fixed_points(F, initial, n_iter=cfg["n_iter"], lr=cfg["lr"], q_tol=cfg["q_tol_coarse"],
                               dedup_tol=cfg["dedup_tol"])
    refined = newton_polish(F, torch.as_tensor(coarse.points), cfg["n_newton"])
    fixed = find_fixed_points(F, refined, n_iter=0, q_tol=cfg["q_tol"], dedup_tol=cfg["dedup_tol"])
    with torch.no_grad():
        readout = model.readout(torch.as_tensor(fixed.points)).numpy()
    return fixed, readout, states.numpy()


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


def pca(states: np.ndarray, n_components: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Principal axes of hidden states (..., d): mean (d,), components (k, d), explained variance ratio (k,)."""
    flat = states.reshape(-1, states.shape[-1])
    mean = flat.mean(axis=0)
    _, singular, vt = np.linalg.svd(flat - mean, full_matrices=False)
    variance = singular**2
    return mean, vt[:n_components], variance[:n_components] / variance.sum()


def analyse(data: xr.Dataset, runs: list[tuple[str, int, xr.Dataset]], cfg: dict[str, Any],
            base_seed: int) -> xr.Dataset:
    """Accuracy, fixed points, memory codes and PCA views of every trained network.

    Parameters
    ----------
    data
        :func:`task_data` dataset.
    runs
        (arch, seed, training store) for every training job.
    cfg
        The ``flipflop`` config section.
    base_seed
        Seeds the initial states of each fixed-point search (``derive_seed(base_seed, "flipflop",
        arch, seed, "fixed_points")``).

    Returns
    -------
    xarray.Dataset
        Dims (arch, seed[, fixed_point, hidden, pc, trial, t]); fixed points padded with NaN.
    """
    archs = list(dict.fromkeys(r[0] for r in runs))
    seeds = sorted({r[1] for r in runs})
    fp_cfg = cfg["fixed_points"]
    n_show = min(fp_cfg["n_trials_shown"], data.sizes["trial_test"])
    n_steps = data.sizes["t"]
    found = {}
    for arch, seed, store in runs:
        model = load_model_parameters(build_network(arch, cfg["models"][arch], torch.Generator().manual_seed(0),
                                                    dtype=torch.float64), store)
        fixed, readout, states = find_memories(model, data, fp_cfg,
                                               torch_generator(base_seed, "flipflop", arch, seed, "fixed_points"))
        found[arch, seed] = (store, accuracy(model, data, "test"), fixed, readout, states)
    k_max = max([len(f[2].q) for f in found.values()] + [1])
    state_size = max(f[4].shape[-1] for f in found.values())  # 2 x hidden for an LSTM's (h, c)
    shape = (len(archs), len(seeds))
    out = {name: np.full(shape, np.nan) for name in
           ("accuracy", "val_loss", "n_fixed", "n_stable", "n_saddle", "n_matched", "readout_deviation")}
    status = np.full(shape, "missing", dtype=object)
    code_count = np.zeros(shape + (2**N_BITS,), dtype=np.int64)
    points = np.full(shape + (k_max, state_size), np.nan)
    points_pc = np.full(shape + (k_max, 3), np.nan)
    fp_readout = np.full(shape + (k_max, N_BITS), np.nan)
    fp_unstable = np.full(shape + (k_max,), -1, dtype=np.int64)
    fp_radius = np.full(shape + (k_max,), np.nan)
    trajectories_pc = np.full(shape + (n_show, n_steps, 3), np.nan)
    explained = np.full(shape + (3,), np.nan)
    for (arch, seed), (store, acc, fixed, readout, states) in found.items():
        i, j = archs.index(arch), seeds.index(seed)
        k, d = fixed.points.shape
        codes = memory_codes(readout, fixed.is_stable)
        out["accuracy"][i, j] = acc
        out["val_loss"][i, j] = float(store["val_loss"].values[-1])
        out["n_fixed"][i, j] = k
        out["n_stable"][i, j] = int(fixed.is_stable.sum())
        out["n_saddle"][i, j] = int((fixed.n_unstable > 0).sum())
        out["n_matched"][i, j] = codes["n_matched"]
        out["readout_deviation"][i, j] = codes["max_deviation"]
        status[i, j] = store.attrs["status"]
        code_count[i, j] = codes["count"]
        mean, components, ratio = pca(states)
        explained[i, j] = ratio
        trajectories_pc[i, j] = (states[:n_show] - mean) @ components.T
        points[i, j, :k, :d] = fixed.points
        points_pc[i, j, :k] = (fixed.points - mean) @ components.T
        fp_readout[i, j, :k] = readout
        fp_unstable[i, j, :k] = fixed.n_unstable
        fp_radius[i, j, :k] = np.abs(fixed.eigenvalues).max(axis=1)
    dims = ("arch", "seed")
    fdims = dims + ("fixed_point",)
    return xr.Dataset(
        {
            "accuracy": (dims, out["accuracy"], {"long_name": "test accuracy (sign of output = target bit)",
                                                 "units": "1"}),
            "val_loss": (dims, out["val_loss"], {"long_name": "final validation loss (MSE)", "units": "1"}),
            "status": (dims, status, {"long_name": "training status", "units": "1"}),
            "n_fixed_points": (dims, out["n_fixed"], {"long_name": "fixed points found (deduplicated)", "units": "1"}),
            "n_stable": (dims, out["n_stable"], {"long_name": "stable fixed points (all |eig| < 1)", "units": "1"}),
            "n_saddle": (dims, out["n_saddle"], {"long_name": "fixed points with unstable directions", "units": "1"}),
            "n_codes_matched": (dims, out["n_matched"],
                                {"long_name": "3-bit codes read out by exactly one stable fixed point", "units": "1"}),
            "readout_deviation": (dims, out["readout_deviation"],
                                  {"long_name": "max |read-out - code| over the stable fixed points", "units": "1"}),
            "code_count": (dims + ("code",), code_count,
                           {"long_name": "stable fixed points reading out each code", "units": "1"}),
            "fixed_point": (fdims + ("state",), points, {"long_name": "fixed point (full state)", "units": "1"}),
            "fixed_point_pc": (fdims + ("pc",), points_pc,
                               {"long_name": "fixed point in the top principal components", "units": "1"}),
            "fixed_point_readout": (fdims + ("bit",), fp_readout,
                                    {"long_name": "network output at the fixed point", "units": "1"}),
            "fixed_point_n_unstable": (fdims, fp_unstable,
                                       {"long_name": "Jacobian eigenvalues with modulus > 1 (-1: padding)",
                                        "units": "1"}),
            "fixed_point_spectral_radius": (fdims, fp_radius,
                                            {"long_name": "largest |eig| of the Jacobian", "units": "1"}),
            "trajectory_pc": (dims + ("trial", "t", "pc"), trajectories_pc,
                              {"long_name": "test-trial hidden states in the top principal components",
                               "units": "1"}),
            "explained_variance": (dims + ("pc",), explained,
                                   {"long_name": "fraction of hidden-state variance per component", "units": "1"}),
        },
        coords={
            "arch": ("arch", np.array(archs, dtype=object), {"long_name": "network family", "units": "1"}),
            "seed": ("seed", np.array(seeds), {"long_name": "training seed index", "units": "1"}),
            "code": ("code", np.array(["".join("+" if b > 0 else "-" for b in c) for c in all_codes()],
                                      dtype=object), {"long_name": "3-bit memory", "units": "1"}),
            "pc": ("pc", np.arange(1, 4), {"long_name": "principal component", "units": "1"}),
        },
        attrs={"title": "Fixed points of networks trained on the 3-bit flip-flop",
               "q_tol": fp_cfg["q_tol"], "n_initial_states": fp_cfg["n_initial_states"]},
    )


def claims(ds: xr.Dataset) -> list[Claim]:
    """The ``flipflop`` claims: per architecture, the seed with the lowest validation loss solves the
    task and has 8 stable fixed points reading out the 8 codes; every seed is reported too."""
    out = []
    n_codes = 2**N_BITS
    for arch in ds["arch"].values:
        a = ds.sel(arch=arch)
        b = best_seed(a)
        every = "; ".join(
            f"seed {int(s)}: accuracy {float(r['accuracy']):.4f}, {int(r['n_stable'])} stable, "
            f"{int(r['n_saddle'])} saddles, {int(r['n_codes_matched'])} codes ({r['status'].item()})"
            for s, r in ((s, a.sel(seed=s)) for s in a["seed"].values))
        acc = float(b["accuracy"])
        out.append(claim_holds(
            f"flipflop/accuracy/{arch}", f"test accuracy of the {arch} network (seed with the lowest validation loss)",
            measured=acc, expected=1.0, tolerance=1.0 - ACCURACY_THRESHOLD, passed=acc >= ACCURACY_THRESHOLD,
            note=f"solved if >= {ACCURACY_THRESHOLD:g}; {every}"))
        out.append(_memories_claim(f"flipflop/stable_fixed_points/{arch}", arch, b, n_codes,
                                   note=f"seed {int(b['seed'])} (lowest validation loss)"))
        for seed in a["seed"].values:
            out.append(_memories_claim(f"flipflop/stable_fixed_points/{arch}/seed={int(seed)}", arch,
                                       a.sel(seed=seed), n_codes, note="every seed"))
    return out


def _memories_claim(claim_id: str, arch: str, run: xr.Dataset, n_codes: int, note: str) -> Claim:
    n_stable, n_matched = int(run["n_stable"]), int(run["n_codes_matched"])
    return claim_holds(
        claim_id, f"stable fixed points of the {arch} network, one per 3-bit memory with matching read-out",
        measured=n_stable, expected=n_codes, passed=n_stable == n_codes and n_matched == n_codes,
        note=f"{note}; {n_matched}/{n_codes} codes read out by exactly one stable point; "
             f"{int(run['n_saddle'])} saddles; max |read-out - code| {float(run['readout_deviation']):.3g}; "
             f"accuracy {float(run['accuracy']):.4f}")
