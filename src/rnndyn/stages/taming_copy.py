"""Taming stage, the copy task: rule ``taming_train`` trains the networks of one architecture and
replicate, one per delay, and writes one trained-network store each; rule ``taming_analyse`` loads
them and measures each one's test scores, λ1 and BPTT gradient norms. See
:mod:`rnndyn.stages.taming` for the stage.

One job per architecture and replicate, not per network: a job's start-up (about 3 s of imports
and I/O) would otherwise cost more than training a network at the default budget.

Random streams (keys after the job's ``("taming", arch, replicate)``, then the delay): ``"init"``
(initial weights), ``"order"`` (minibatch order), ``"basis"`` (λ1's initial basis). The trials
are the same for every architecture (a fair comparison), so they are keyed without it:
``("taming", "copy", delay, replicate, "train" | "test")`` (:func:`trial_streams`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr
from torch.nn.utils import parametrize

from rnndyn.analysis.gradients import gradient_growth_rate
from rnndyn.analysis.lyapunov import lyapunov_spectrum_autograd
from rnndyn.models import RecurrentModel
from rnndyn.models.trained import load_network, network_identity, network_store
from rnndyn.seeding import Streams
from rnndyn.stages.taming_init import build, build_args, gradient_norms
from rnndyn.systems.tasks import copy_task, copy_task_baseline_cross_entropy
from rnndyn.training import TrainConfig, train

if TYPE_CHECKING:
    import logging

    from rnndyn.jobs import Job


def train_job(job: Job) -> None:
    """Rule ``taming_train``: :func:`train_copy` for the job's architecture and replicate at every
    delay of ``copy.delays``, output ``i`` holding the network of the ``i``-th delay."""
    arch, replicate = job.wildcards["arch"], int(job.wildcards["replicate"])
    for i, delay in enumerate(job.config["copy"]["delays"]):
        # A preempted run raises TrainingInterrupted (exit status 75, checkpoints kept for the requeue).
        store = train_copy(arch, delay, replicate, job.config, job.streams.child(delay), device=job.device,
                           checkpoint_path=job.checkpoint_dir / f"train_L{delay}.pt", log=job.log)
        job.log.info("L = %d: %s after %d epochs, loss %.4g, validation loss %.4g", delay, store.attrs["status"],
                     store.attrs["epochs_run"], store.attrs["final_loss"], store.attrs["final_val_loss"])
        job.write(store, i, device=store.attrs["device"])


def analyse_job(job: Job) -> None:
    """Rule ``taming_analyse``: :func:`analyse_network` of each of the job's trained networks (input
    ``i`` to output ``i``)."""
    for i, path in enumerate(job.input):
        net = job.read(i)
        result = analyse_network(net, job.config, job.streams.child(int(network_identity(net)["delay"])))
        job.log.info("%s: recall accuracy %.3f, cross-entropy %.4f (baseline %.4f), lambda1 %.4f", path,
                     float(result["recall_accuracy"]), float(result["test_cross_entropy"]),
                     float(result["baseline_cross_entropy"]), float(result["lambda1"].mean()))
        job.write(result, i)


def trial_streams(streams: Streams) -> Streams:
    """The streams of the copy-task trials: the stage's, without the architecture, so that every
    architecture sees the same trials; recorded with ``streams`` (the job's) under their full key."""
    return streams.shared()


def copy_data(ccfg: dict[str, Any], delay: int, replicate: int, streams: Streams,
              splits: tuple[str, ...] = ("train", "test")) -> dict[str, torch.Tensor]:
    """Trials of the copy task at ``delay`` for replicate ``replicate`` (``ccfg``: the ``copy`` settings).

    Split ``s`` has ``ccfg["n_<s>"]`` trials from the stream ``("copy", delay, replicate, s)`` of
    ``streams`` (:func:`trial_streams`). Returns float32 one-hot inputs ``<s>_inputs``
    ``(n, L + 2·length, n_symbols + 2)`` and int64 targets ``<s>_targets`` ``(n, T)``.
    """
    out = {}
    for split in splits:
        x, y = copy_task(streams.numpy("copy", delay, replicate, split), n_trials=ccfg[f"n_{split}"], delay=delay,
                         n_symbols=ccfg["n_symbols"], length=ccfg["length"])
        out[f"{split}_inputs"] = torch.from_numpy(x).to(torch.float32)
        out[f"{split}_targets"] = torch.from_numpy(y)
    return out


def train_copy(arch: str, delay: int, replicate: int, cfg: dict[str, Any], streams: Streams, *,
               device: str | torch.device = "cpu", checkpoint_path: str | None = None,
               log: logging.Logger | None = None) -> xr.Dataset:
    """Train ``arch`` on the copy task at ``delay`` (replicate ``replicate``): its trained-network store.

    ``cfg``: ``hidden_size``, ``g``, ``leaky_alpha``, ``copy`` (``n_symbols``, ``length``,
    ``n_train``, ``n_test``) and ``train`` (:class:`rnndyn.training.TrainConfig`; the loss is
    cross-entropy). The test trials are the validation set.
    """
    data = copy_data(cfg["copy"], delay, replicate, trial_streams(streams))
    model = build(arch, cfg, streams.torch("init"))
    kwargs = {} if log is None else {"log": log}
    result = train(model, (data["train_inputs"], data["train_targets"]), (data["test_inputs"], data["test_targets"]),
                   config=TrainConfig.from_dict({**cfg["train"], "loss": "cross_entropy"}), seed=streams.seed("order"),
                   device=device, checkpoint_path=checkpoint_path, **kwargs)
    return network_store(model, result.history, build=build_args(arch, cfg),
                         identity={"stage": "taming", "arch": arch, "delay": delay, "replicate": replicate},
                         status=result.status, device=result.device,
                         title=f"{arch} network trained on the copy task at delay {delay}, replicate {replicate}")


def copy_scores(model: RecurrentModel, inputs: torch.Tensor, targets: torch.Tensor, length: int) -> dict[str, float]:
    """Cross-entropy per step (nats, over the whole trial) and accuracy on the recalled symbols."""
    model.eval()
    with torch.no_grad(), parametrize.cached():
        logits = model.outputs(inputs)
    cross_entropy = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(), targets.reshape(-1))
    recalled = logits[:, -length:].argmax(dim=-1) == targets[:, -length:]
    return {"cross_entropy": float(cross_entropy), "recall_accuracy": float(recalled.double().mean())}


def trained_lambda1(model: RecurrentModel, states: torch.Tensor, lcfg: dict[str, Any],
                    rng: np.random.Generator) -> np.ndarray:
    """λ1 ``(B,)`` of the trained network run autonomously with zero input, from ``states`` ``(B, d)``.

    The model is copied to float64 on the CPU; Jacobians by forward-mode autodiff
    (:func:`~rnndyn.analysis.lyapunov.lyapunov_spectrum_autograd`; ``lcfg``: ``n_steps``,
    ``n_transient``). Parametrised weights are evaluated once before the autodiff transforms and
    reused (``parametrize.cached``).
    """
    model = model.to("cpu", torch.float64)
    zero = torch.zeros(states.shape[0], model.input_size, dtype=torch.float64)
    h0 = states.detach().to("cpu", torch.float64)
    with torch.no_grad(), parametrize.cached():
        model.step(zero, h0)  # fills the cache outside torch.func's transforms

        def step(h: torch.Tensor) -> torch.Tensor:
            return model.step(zero, h)

        result = lyapunov_spectrum_autograd(step, h0, n_steps=lcfg["n_steps"], n_transient=lcfg["n_transient"],
                                            n_exponents=1, rng=rng)
    return result.exponents[:, 0]


def analyse_network(net: xr.Dataset, cfg: dict[str, Any], streams: Streams) -> xr.Dataset:
    """Test scores, λ1 and gradient norms of a trained network of the copy task (in float64).

    Parameters
    ----------
    net
        Its trained-network store (:func:`train_copy`).
    cfg
        ``copy`` (``n_symbols``, ``length``, ``n_test``: the test trials are regenerated from
        their stream), ``lyapunov`` (``n_trajectories`` starts at the end of test trials,
        ``n_transient``, ``n_steps``) and ``init.n_trials`` (test trials of the gradient norms).
    streams
        The job's streams: ``"basis"`` and the trials' (:func:`trial_streams`).

    Returns
    -------
    xarray.Dataset
        Test cross-entropy and recall accuracy with the memoryless baseline, λ1 per start, the BPTT
        log gradient norms against lag on test trials with their growth rate and maximum; the
        network's ``identity`` and training ``status`` in the attributes.
    """
    identity = network_identity(net)
    delay, replicate = int(identity["delay"]), int(identity["replicate"])
    ccfg, lcfg = cfg["copy"], cfg["lyapunov"]
    test = copy_data(ccfg, delay, replicate, trial_streams(streams), splits=("test",))
    inputs = test["test_inputs"].double()
    model = load_network(net)
    scores = copy_scores(model, inputs, test["test_targets"], ccfg["length"])
    with torch.no_grad(), parametrize.cached():
        _, states = model(inputs[: lcfg["n_trajectories"]])
    lam1 = trained_lambda1(model, states[:, -1], lcfg, streams.numpy("basis"))
    log_norms = gradient_norms(model, inputs[: cfg["init"]["n_trials"]])
    rate, _ = gradient_growth_rate(log_norms, min_lag=log_norms.shape[1] // 4)
    baseline = copy_task_baseline_cross_entropy(delay, n_symbols=ccfg["n_symbols"], length=ccfg["length"])
    scalars = {
        "test_cross_entropy": (scores["cross_entropy"], "test cross-entropy per step", "nat"),
        "recall_accuracy": (scores["recall_accuracy"], "test accuracy on the recalled symbols", "1"),
        "baseline_cross_entropy": (baseline, "memoryless baseline length ln(n_symbols) / (L + 2 length)", "nat"),
        "gradient_rate": (float(rate), "gradient growth rate per step, test trials (lags >= T / 4)", "1/step"),
        "max_gradient_norm": (float(np.exp(log_norms[:, 1:].max())), "largest gradient norm over test trials and "
                              "lags >= 1", "1"),
    }
    return xr.Dataset(
        {name: ((), value, {"long_name": long, "units": units}) for name, (value, long, units) in scalars.items()}
        | {
            "lambda1": (("trajectory",), lam1,
                        {"long_name": "largest Lyapunov exponent, autonomous zero-input dynamics", "units": "1/step"}),
            "log_gradient_norm": (("trial", "lag"), log_norms,
                                  {"long_name": "log ||dL/ds_{T-lag}|| of the trained network on test trials",
                                   "units": "1"}),
        },
        coords={"trajectory": ("trajectory", np.arange(lam1.size), {"long_name": "start (test trial)", "units": "1"}),
                "trial": ("trial", np.arange(log_norms.shape[0]), {"long_name": "test trial", "units": "1"}),
                "lag": ("lag", np.arange(log_norms.shape[1]), {"long_name": "lag T - k", "units": "step"})},
        attrs={"title": f"copy-task scores, lambda1 and gradient norms of the {identity['arch']} network at delay "
                        f"{delay}, replicate {replicate}",
               "identity": identity, "status": net.attrs["status"]},
    )
