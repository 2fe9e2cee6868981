"""Recover from a killed run: remove Snakemake's lock when no Snakemake process still holds it.

A run killed with SIGKILL (or a power loss) leaves ``.snakemake/locks`` behind and every later run
refuses to start until ``snakemake --unlock``. ``make study`` calls this module first, so one
command resumes an interrupted study; a lock held by a live run is left alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def live_snakemake_pids(workdir: Path) -> list[int]:
    """PIDs of Snakemake processes whose working directory is ``workdir`` (Linux /proc)."""
    workdir = workdir.resolve()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = (proc / "cwd").resolve()
        except OSError:  # the process ended, or is not ours to inspect
            continue
        # The main process runs as `.../bin/snakemake` or `python -m snakemake`.
        if cwd == workdir and any(Path(a.decode(errors="replace")).name == "snakemake" for a in argv[:3]):
            pids.append(int(proc.name))
    return pids


def stale_lock(workdir: Path) -> bool:
    """Whether ``workdir`` has Snakemake lock files that no live Snakemake process holds."""
    locks = workdir / ".snakemake" / "locks"
    return locks.is_dir() and any(locks.iterdir()) and not live_snakemake_pids(workdir)


def main(snakemake_args: list[str]) -> int:
    """Unlock the current directory if its lock is stale; ``snakemake_args`` go to ``snakemake --unlock``."""
    workdir = Path.cwd()
    if stale_lock(workdir):
        print("A previous run was interrupted: removing its stale lock (snakemake --unlock).", flush=True)
        cmd = [sys.executable, "-m", "snakemake", "--unlock", "--cores", "1", *snakemake_args]
        return subprocess.run(cmd, cwd=workdir).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
