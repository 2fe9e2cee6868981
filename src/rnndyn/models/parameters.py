"""A trained network's parameters as an xarray Dataset: stored in Zarr beside its history, not pickled."""

from __future__ import annotations

import torch
import xarray as xr


def model_parameters(model: torch.nn.Module) -> xr.Dataset:
    """Every parameter of a model as a data variable (float64; dims ``<name>_dim<i>``).

    With :func:`load_model_parameters` this stores a trained network in a Zarr store, beside its
    training history, instead of a pickled checkpoint.
    """
    return xr.Dataset({
        f"param.{name}": ([f"{name}_dim{i}" for i in range(value.ndim)], value.detach().cpu().double().numpy(),
                          {"long_name": f"trained parameter {name}", "units": "1"})
        for name, value in model.state_dict().items()
    })


def load_model_parameters(model: torch.nn.Module, ds: xr.Dataset) -> torch.nn.Module:
    """Load the parameters stored by :func:`model_parameters` into ``model`` (in its dtype)."""
    reference = model.state_dict()
    state = {name: torch.as_tensor(ds[f"param.{name}"].values, dtype=value.dtype)
             for name, value in reference.items()}
    model.load_state_dict(state)
    return model
