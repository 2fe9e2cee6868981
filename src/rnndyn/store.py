"""The only code that touches Zarr: atomic writes and reads of xarray Datasets.

A store is written under a hidden temporary name in the destination's folder and renamed into
place only once complete, so a job killed mid-write never leaves a store that looks complete
(Snakemake's ``directory()`` outputs then see nothing, or an obviously partial ``.tmp`` folder).

Every store carries consolidated metadata (inline in its root ``zarr.json``), so a plain
``xr.open_zarr(path)`` opens it without a warning: xarray finds the consolidated metadata and never
lists the folder, so the ``.snakemake_timestamp`` file Snakemake drops into a ``directory()`` output
is never seen either.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from zarr.errors import ZarrUserWarning

PROVENANCE_ATTR = "provenance"
WALL_CLOCK_ATTR = "wall_clock"
"""Variable attribute marking a timing measurement, which no two runs reproduce."""
_TMP_MARKER = ".tmp-"


def _json_safe(value: Any) -> Any:
    """Convert numpy scalars and arrays inside attributes to plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_dataset(ds: xr.Dataset, path: str | Path, *, provenance: dict[str, Any]) -> Path:
    """Write ``ds`` to a Zarr (format 3) store with consolidated metadata at ``path`` atomically.

    Parameters
    ----------
    ds
        The dataset; every data variable should carry ``units`` and ``long_name`` attributes.
    path
        Destination folder (conventionally ending in ``.zarr``). An existing store there is
        replaced only after the new one is complete.
    provenance
        Attributes from :func:`rnndyn.provenance.provenance`; stored under ``attrs["provenance"]``.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{_TMP_MARKER}{uuid.uuid4().hex[:8]}")
    out = ds.copy()
    out.attrs = _json_safe({**ds.attrs, PROVENANCE_ATTR: provenance})
    for name in out.variables:
        out[name].attrs = _json_safe(dict(out[name].attrs))
    try:
        with warnings.catch_warnings():
            # zarr notes that consolidated metadata is not (yet) in the format 3 spec; it is written
            # with must_understand=false, so readers that do not know it fall back to the plain metadata.
            warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part",
                                    category=ZarrUserWarning)
            out.to_zarr(tmp, mode="w", zarr_format=3, consolidated=True)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return path


def read_dataset(path: str | Path) -> xr.Dataset:
    """Open a store written by :func:`write_dataset` and load it into memory.

    Raises
    ------
    FileNotFoundError
        Naming the missing store.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"no store at {path}")
    with xr.open_zarr(path) as ds:  # exactly as a user opens it (consolidated metadata, no warning)
        return ds.load()


def read_provenance(path: str | Path) -> dict[str, Any]:
    """The provenance attributes of the store at ``path``."""
    return read_dataset(path).attrs[PROVENANCE_ATTR]


def array_digest(ds: xr.Dataset) -> dict[str, str]:
    """SHA-256 of every variable's values (and dims), for determinism checks independent of file bytes.

    Variables marked with the attribute ``wall_clock`` (timings) are left out: they differ between
    any two runs by nature.
    """
    digests = {}
    for name in sorted(map(str, ds.variables)):
        var = ds[name]
        if var.attrs.get(WALL_CLOCK_ATTR):
            continue
        h = hashlib.sha256(json.dumps([list(var.dims), list(var.shape), str(var.dtype)]).encode())
        values = var.values
        if values.dtype.kind in "OUS":  # object/str arrays hold pointers, not bytes: hash the text
            h.update("\x1f".join(map(str, values.ravel())).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
        digests[name] = h.hexdigest()
    return digests
