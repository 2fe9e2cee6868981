"""The store: round trip, provenance, atomicity when a write fails or the writer is killed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import xarray as xr
from xarray.testing import assert_identical

from rnndyn.provenance import config_hash, provenance
from rnndyn.seeding import Streams
from rnndyn.store import array_digest, read_dataset, read_provenance, write_dataset


def _dataset(n: int = 4) -> xr.Dataset:
    return xr.Dataset(
        {"h": (("w", "t"), np.arange(3.0 * n).reshape(3, n), {"units": "1", "long_name": "hidden state"})},
        coords={"w": ("w", [0.5, 1.0, 2.0], {"units": "1", "long_name": "weight"}), "t": np.arange(n)},
        attrs={"title": "test"},
    )


def test_round_trip_keeps_values_dims_and_attrs(tmp_path):
    ds = _dataset()
    prov = provenance(rule="test", config={"a": 1}, randomness=None)
    write_dataset(ds, tmp_path / "a.zarr", provenance=prov)
    back = read_dataset(tmp_path / "a.zarr")
    assert_identical(back.drop_attrs(deep=False), ds.drop_attrs(deep=False))
    assert back["h"].attrs == {"units": "1", "long_name": "hidden state"}
    assert back.attrs["title"] == "test"
    # Zarr format 3 on disk, with consolidated metadata.
    meta = json.loads((tmp_path / "a.zarr" / "zarr.json").read_text())
    assert meta["zarr_format"] == 3 and meta["consolidated_metadata"]["kind"] == "inline"


def test_plain_open_zarr_opens_a_snakemake_output_without_any_warning(tmp_path):
    ds = _dataset()
    path = write_dataset(ds, tmp_path / "a.zarr", provenance={})
    (path / ".snakemake_timestamp").touch()  # Snakemake marks every directory() output so
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with xr.open_zarr(path) as opened:  # as a newcomer types it: no extra arguments
            assert_identical(opened.load().drop_attrs(deep=False), ds.drop_attrs(deep=False))


def test_provenance_attributes_are_complete_and_json(tmp_path):
    cfg = {"w": [1, 2], "seed": 3}
    streams = Streams(np.int64(11), "bistable", "0.5")
    drawn = streams.seed("init")
    write_dataset(_dataset(), tmp_path / "a.zarr",
                  provenance=provenance(rule="bistable_data", config=cfg, randomness=streams.provenance(),
                                        device="cpu"))
    prov = read_provenance(tmp_path / "a.zarr")
    assert set(prov) == {"rule", "config_hash", "randomness", "device", "package_versions", "git_commit", "created"}
    assert prov["rule"] == "bistable_data" and prov["device"] == "cpu"
    assert prov["randomness"] == {"base_seed": 11, "prefix": ["bistable", "0.5"], "streams": {"init": drawn}}
    assert prov["config_hash"] == config_hash(cfg) == config_hash({"seed": 3, "w": [1, 2]})
    assert prov["package_versions"]["xarray"] == xr.__version__
    assert prov["git_commit"]  # a commit hash, or "unknown" outside git


def test_failed_write_leaves_nothing_and_keeps_old_store(tmp_path, monkeypatch):
    path = tmp_path / "a.zarr"
    write_dataset(_dataset(), path, provenance={})
    original = array_digest(read_dataset(path))

    real_to_zarr = xr.Dataset.to_zarr

    def broken_to_zarr(self, store, **kwargs):
        real_to_zarr(xr.Dataset({"partial": ("x", [1.0])}), store, **kwargs)  # something on disk ...
        raise OSError("disk full")  # ... then the writer fails

    monkeypatch.setattr(xr.Dataset, "to_zarr", broken_to_zarr)
    with pytest.raises(OSError, match="disk full"):
        write_dataset(_dataset(6), path, provenance={})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zarr"]  # no temporary left behind
    assert array_digest(read_dataset(path)) == original


_SLOW_WRITER = """
import sys, numpy as np, xarray as xr
from rnndyn.store import write_dataset
big = xr.Dataset({f"v{i}": (("x",), np.random.default_rng(i).random(2_000_000)) for i in range(40)})
print("writing", flush=True)
write_dataset(big, sys.argv[1], provenance={})
"""


def test_writer_killed_mid_write_leaves_no_store(tmp_path):
    path = tmp_path / "big.zarr"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".big.zarr.tmp-") for p in tmp_path.iterdir()):
        assert time.monotonic() < deadline and proc.poll() is None, "writer never started its temporary store"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not path.exists()
    with pytest.raises(FileNotFoundError, match="big.zarr"):
        read_dataset(path)


def test_array_digest_ignores_attributes_but_not_values():
    a, b = _dataset(), _dataset()
    b.attrs["provenance"] = {"created": "another time"}
    assert array_digest(a) == array_digest(b)
    b["h"][0, 0] = -1.0
    assert array_digest(a) != array_digest(b)


def test_array_digest_leaves_out_wall_clock_timings():
    a, b = _dataset(), _dataset()
    a["seconds"] = ("t", [0.1, 0.2, 0.3, 0.4], {"units": "s", "wall_clock": 1})
    b["seconds"] = ("t", [0.5, 0.2, 0.3, 0.9], {"units": "s", "wall_clock": 1})
    assert array_digest(a) == array_digest(b) and "seconds" not in array_digest(a)
