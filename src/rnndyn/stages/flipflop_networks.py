"""The flip-flop stage's jobs that run networks (torch): training one network, and the fixed
points, memory codes and PCA views of every trained network, with the ``flipflop`` claims."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import xarray as xr

from rnndyn.analysis.fixed_points import (
    FixedPoints,
    Map,
    constant_input_map,
    find_fixed_points,
    newton_polish,
    saddle_connections,
    pairwise_midpoints,
    sample_initial_states,
)
from rnndyn.analysis.pca import principal_axes
from rnndyn.models import RecurrentModel
from rnndyn.models.trained import load_network, network_identity
from rnndyn.seeding import Streams
from rnndyn.stages.flipflop import N_BITS, all_codes, claims, cube_edges, memory_codes
from rnndyn.training.network import train_network

if TYPE_CHECKING:
    from rnndyn.jobs import Job


def train_job(job: Job) -> None:
    """Job ``flipflop_train``: one network (arch x replicate), config ``flipflop.archs.<arch>``.

    The initial weights draw from the stream ``init``, the minibatch order from ``batches``; the
    loss is the MSE on the target bits.
    """
    data, arch, cfg = job.read(), job.wildcards["arch"], job.config
    arguments = {"input_size": N_BITS, "hidden_size": cfg["hidden_size"], "output_size": N_BITS,
                 **cfg.get("options", {})}
    identity = {"stage": "flipflop", "arch": arch, "replicate": int(job.wildcards["replicate"])}
    store = train_network(arch, arguments, task_pairs(data, "train"), task_pairs(data, "val"), config=cfg["train"],
                          streams=job.streams, identity=identity,
                          title=f"{arch} network trained on the {N_BITS}-bit flip-flop",
                          device=job.device, checkpoint_path=job.checkpoint_dir / "train.pt", log=job.log)
    job.write(store, device=store.attrs["device"])


def task_pairs(data: xr.Dataset, split: str, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets) of a split as tensors (N, T, 3)."""
    return (torch.as_tensor(data[f"inputs_{split}"].values, dtype=dtype),
            torch.as_tensor(data[f"targets_{split}"].values, dtype=dtype))


def accuracy(model: RecurrentModel, data: xr.Dataset, split: str) -> float:
    """Fraction of (trial, step, bit) outputs whose sign equals the target bit."""
    inputs, targets = task_pairs(data, split, dtype=torch.float64)
    with torch.no_grad():
        outputs = model.double().eval()(inputs)[0]
    return float((torch.sign(outputs) == targets).double().mean())


def find_memories(model: RecurrentModel, data: xr.Dataset, cfg: dict[str, Any],
                  generator: torch.Generator) -> tuple[FixedPoints, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Fixed points of the network under zero input, and its test-trial hidden states.

    Initial states are sampled from the states visited on the test trials plus Gaussian noise
    (Sussillo & Barak 2013); a coarse q descent (:func:`find_fixed_points` with tolerance
    ``q_tol_coarse``) is refined by :func:`newton_polish`, and the refined points are accepted,
    deduplicated and classified by :func:`find_fixed_points` with the strict ``q_tol``. A second
    search of the same kind starts from the midpoints of every pair of stable points found by the
    first (:func:`pairwise_midpoints`), where the saddles between memories lie; both searches'
    points are pooled and deduplicated.

    Parameters
    ----------
    model
        Trained network (used in float64).
    data
        :func:`rnndyn.stages.flipflop.task_data` dataset (test split).
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
    connections : dict
        :func:`saddle_connections` of the one-unstable saddles (config ``branch_step``,
        ``branch_steps``, ``landing_fraction``).
    """
    model = model.double().eval()
    inputs, _ = task_pairs(data, "test", dtype=torch.float64)
    with torch.no_grad():
        _, states = model(inputs)
    F = constant_input_map(lambda h, u: model.step(u, h), torch.zeros(N_BITS, dtype=torch.float64))
    initial = sample_initial_states(states, cfg["n_initial_states"], noise_std=cfg["noise_std"], generator=generator)
    first = _refined_search(F, initial, cfg)
    # A second search for the saddles between memories, from the midpoints of every pair of stable
    # points of the first (Sussillo & Barak 2013 find them between adjacent attractors).
    stable = first.points[first.is_stable]
    between = _refined_search(F, torch.as_tensor(pairwise_midpoints(stable)), cfg) if len(stable) > 1 else first
    candidates = torch.as_tensor(np.concatenate([first.points, between.points]))
    fixed = find_fixed_points(F, candidates, n_iter=0, q_tol=cfg["q_tol"], dedup_tol=cfg["dedup_tol"])
    with torch.no_grad():
        readout = model.readout(torch.as_tensor(fixed.points)).numpy()
    connections = saddle_connections(F, fixed, step=cfg["branch_step"], n_steps=cfg["branch_steps"],
                                     landing_fraction=cfg["landing_fraction"])
    return fixed, readout, states.numpy(), connections


def _refined_search(F: Map, initial: torch.Tensor, cfg: dict[str, Any]) -> FixedPoints:
    """Coarse q descent from ``initial`` (B, d), Newton refinement, strict acceptance (config
    ``flipflop.fixed_points``)."""
    coarse = find_fixed_points(F, initial, n_iter=cfg["n_iter"], lr=cfg["lr"], q_tol=cfg["q_tol_coarse"],
                               dedup_tol=cfg["dedup_tol"])
    refined = newton_polish(F, torch.as_tensor(coarse.points), cfg["n_newton"])
    return find_fixed_points(F, refined, n_iter=0, q_tol=cfg["q_tol"], dedup_tol=cfg["dedup_tol"])


def analysis_job(job: Job) -> None:
    """Job ``flipflop_analysis``: fixed points of every trained network and the ``flipflop`` claims
    (config ``flipflop.fixed_points``); each search draws from the stream ``(arch, replicate,
    "fixed_points")``."""
    result = analyse(job.read("data"), job.read_all("networks"), job.config, job.streams)
    job.write(result, "analysis")
    job.write_claims(claims(result))


def analyse(data: xr.Dataset, networks: list[xr.Dataset], cfg: dict[str, Any], streams: Streams) -> xr.Dataset:
    """Accuracy, fixed points, memory codes and PCA views of every trained network.

    Parameters
    ----------
    data
        :func:`rnndyn.stages.flipflop.task_data` dataset.
    networks
        Trained networks (:func:`rnndyn.models.trained.network_store`); each one's arch and
        replicate come from its identity.
    cfg
        The ``flipflop.fixed_points`` section.
    streams
        The job's streams: the initial states of each search draw from
        ``streams.child(arch, replicate).torch("fixed_points")``.

    Returns
    -------
    xarray.Dataset
        Dims (arch, replicate[, fixed_point, state, pc, trial, t]); fixed points padded with NaN.
    """
    identities = [network_identity(store) for store in networks]
    archs = list(dict.fromkeys(identity["arch"] for identity in identities))
    replicates = sorted({int(identity["replicate"]) for identity in identities})
    n_show = min(cfg["n_trials_shown"], data.sizes["trial_test"])
    n_steps = data.sizes["t"]
    found = {}
    for identity, store in zip(identities, networks):
        arch, replicate = identity["arch"], int(identity["replicate"])
        model = load_network(store)
        fixed, readout, states, connections = find_memories(model, data, cfg,
                                                            streams.child(arch, replicate).torch("fixed_points"))
        found[arch, replicate] = (store, accuracy(model, data, "test"), fixed, readout, states, connections)
    k_max = max([len(f[2].q) for f in found.values()] + [1])
    state_size = max(f[4].shape[-1] for f in found.values())  # 2 x hidden for an LSTM's (h, c)
    shape = (len(archs), len(replicates))
    out = {name: np.full(shape, np.nan) for name in
           ("accuracy", "val_loss", "n_fixed", "n_stable", "n_saddle", "n_saddle_1", "n_connecting", "n_edges",
            "n_matched", "readout_deviation")}
    status = np.full(shape, "missing", dtype=object)
    code_count = np.zeros(shape + (2**N_BITS,), dtype=np.int64)
    points = np.full(shape + (k_max, state_size), np.nan)
    points_pc = np.full(shape + (k_max, 3), np.nan)
    fp_readout = np.full(shape + (k_max, N_BITS), np.nan)
    fp_unstable = np.full(shape + (k_max,), -1, dtype=np.int64)
    fp_radius = np.full(shape + (k_max,), np.nan)
    fp_lands_on = np.full(shape + (k_max, 2), -1, dtype=np.int64)
    fp_direction_pc = np.full(shape + (k_max, 3), np.nan)
    trajectories_pc = np.full(shape + (n_show, n_steps, 3), np.nan)
    explained = np.full(shape + (3,), np.nan)
    for (arch, replicate), (store, acc, fixed, readout, states, connections) in found.items():
        i, j = archs.index(arch), replicates.index(replicate)
        k, d = fixed.points.shape
        codes = memory_codes(readout, fixed.is_stable)
        out["accuracy"][i, j] = acc
        out["val_loss"][i, j] = float(store["val_loss"].values[-1])
        out["n_fixed"][i, j] = k
        out["n_stable"][i, j] = int(fixed.is_stable.sum())
        out["n_saddle"][i, j] = int((fixed.n_unstable > 0).sum())
        out["n_saddle_1"][i, j] = len(connections["saddle"])
        edges = connected_edges(connections["lands_on"], readout)
        out["n_connecting"][i, j] = int(edges["adjacent"].sum())
        out["n_edges"][i, j] = len(edges["edges"])
        out["n_matched"][i, j] = codes["n_matched"]
        out["readout_deviation"][i, j] = codes["max_deviation"]
        status[i, j] = store.attrs["status"]
        code_count[i, j] = codes["count"]
        mean, components, ratio = principal_axes(states, 3)
        explained[i, j] = ratio
        trajectories_pc[i, j] = (states[:n_show] - mean) @ components.T
        points[i, j, :k, :d] = fixed.points
        points_pc[i, j, :k] = (fixed.points - mean) @ components.T
        fp_readout[i, j, :k] = readout
        fp_unstable[i, j, :k] = fixed.n_unstable
        fp_radius[i, j, :k] = np.abs(fixed.eigenvalues).max(axis=1)
        fp_lands_on[i, j, connections["saddle"]] = connections["lands_on"]
        fp_direction_pc[i, j, connections["saddle"]] = connections["direction"] @ components.T
    dims = ("arch", "replicate")
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
            "n_saddle_1": (dims, out["n_saddle_1"],
                           {"long_name": "saddles with exactly one unstable direction", "units": "1"}),
            "n_connecting": (dims, out["n_connecting"],
                             {"long_name": "one-unstable saddles whose two branches land on stable points of "
                                           "codes one bit apart", "units": "1"}),
            "n_edges": (dims, out["n_edges"],
                        {"long_name": "cube edges (code pairs one bit apart) joined by a connecting saddle",
                         "units": "1"}),
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
            "fixed_point_lands_on": (fdims + ("branch",), fp_lands_on,
                                     {"long_name": "fixed point where each branch (+v, -v) of a one-unstable "
                                                   "saddle's unstable manifold ends (-1: none, or not such a saddle)",
                                      "units": "1"}),
            "fixed_point_direction_pc": (fdims + ("pc",), fp_direction_pc,
                                         {"long_name": "a one-unstable saddle's unit unstable eigenvector in the "
                                                       "top principal components", "units": "1"}),
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
            "replicate": ("replicate", np.array(replicates), {"long_name": "replicate network", "units": "1"}),
            "code": ("code", np.array(["".join("+" if b > 0 else "-" for b in c) for c in all_codes()],
                                      dtype=object), {"long_name": "3-bit memory", "units": "1"}),
            "pc": ("pc", np.arange(1, 4), {"long_name": "principal component", "units": "1"}),
            "branch": ("branch", np.array(["+v", "-v"], dtype=object),
                       {"long_name": "branch of the unstable manifold", "units": "1"}),
        },
        attrs={"title": "Fixed points of networks trained on the 3-bit flip-flop",
               "q_tol": cfg["q_tol"], "n_initial_states": cfg["n_initial_states"],
               "n_cube_edges": len(cube_edges()), "branch_step": cfg["branch_step"],
               "landing_fraction": cfg["landing_fraction"]},
    )


def connected_edges(lands_on: np.ndarray, readout: np.ndarray) -> dict[str, Any]:
    """Which memories the one-unstable saddles connect.

    Parameters
    ----------
    lands_on
        (S, 2) fixed-point index where each branch of each saddle ends, -1 for none
        (:func:`rnndyn.analysis.fixed_points.saddle_connections`).
    readout
        (K, 3) network outputs at the fixed points.

    Returns
    -------
    dict
        ``adjacent`` (S,): True where both branches end on stable points whose codes (read-out signs)
        differ in exactly one bit; ``edges``: the set of those code pairs, each a frozenset of two
        code tuples (at most the cube's 12 edges, :func:`rnndyn.stages.flipflop.cube_edges`).
    """
    codes = [tuple(np.sign(r)) for r in readout]
    adjacent = np.zeros(len(lands_on), dtype=bool)
    edges = set()
    for s, (a, b) in enumerate(lands_on):
        if a < 0 or b < 0:
            continue
        edge = frozenset((codes[a], codes[b]))
        if edge in cube_edges():
            adjacent[s] = True
            edges.add(edge)
    return {"adjacent": adjacent, "edges": edges}
