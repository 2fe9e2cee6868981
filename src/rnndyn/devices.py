"""Where a job computes: the device is chosen at run time, never hard-coded."""

from __future__ import annotations

import torch


def select_device(choice: str = "auto") -> torch.device:
    """Device for a run: ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda[:i]"``.

    Raises
    ------
    RuntimeError
        When CUDA is asked for explicitly but is not available.
    """
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(choice)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {choice!r} requested but CUDA is not available")
    return device
