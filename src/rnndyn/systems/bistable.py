"""The bistable neuron h_{t+1} = tanh(w h_t + b): one recurrent unit, the smallest 1-bit memory."""

from __future__ import annotations

import numpy as np
import xarray as xr


def bistable_map(h: np.ndarray, w: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """One step of the neuron, ``tanh(w h + b)`` (broadcasting)."""
    return np.tanh(w * h + b)


def simulate_bistable(w: np.ndarray, b: np.ndarray, h0: np.ndarray, n_steps: int) -> xr.Dataset:
    """Trajectories of the bistable neuron from a grid of initial conditions.

    Parameters
    ----------
    w, b
        Recurrent weights (W,) and biases (B,) swept on a grid.
    h0
        Initial states (H,).
    n_steps
        Number of map iterations; the trajectory has ``n_steps + 1`` states.

    Returns
    -------
    xarray.Dataset
        ``h`` with dims ``(w, b, h0, t)``, float64, ``t = 0 .. n_steps``.
    """
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    h0 = np.asarray(h0, dtype=np.float64)
    h = np.empty((w.size, b.size, h0.size, n_steps + 1))
    h[..., 0] = h0
    ww, bb = w[:, None, None], b[None, :, None]
    for t in range(n_steps):
        h[..., t + 1] = bistable_map(h[..., t], ww, bb)
    return xr.Dataset(
        {"h": (("w", "b", "h0", "t"), h, {"long_name": "hidden state", "units": "1"})},
        coords={
            "w": ("w", w, {"long_name": "recurrent weight", "units": "1"}),
            "b": ("b", b, {"long_name": "bias", "units": "1"}),
            "h0": ("h0", h0, {"long_name": "initial state", "units": "1"}),
            "t": ("t", np.arange(n_steps + 1), {"long_name": "time step", "units": "step"}),
        },
        attrs={"title": "Bistable neuron trajectories h_{t+1} = tanh(w h_t + b)"},
    )
