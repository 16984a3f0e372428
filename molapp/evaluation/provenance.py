"""Where a figure came from: the command, the code's commit, the packages, the machine and
the wall time, written into every results file by the code that ran it."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def git_commit() -> str:
    """The checkout's commit, with "+changes" when the work tree differs from it; "unknown"
    outside a git checkout."""
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+changes" if dirty else "")


def package_versions() -> dict:
    import numpy as np
    import rdkit
    import torch
    import torch_geometric

    return {"python": platform.python_version(), "torch": torch.__version__, "torch_geometric": torch_geometric.__version__,
            "rdkit": rdkit.__version__, "numpy": np.__version__}


def machine() -> str:
    return f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs"


def provenance(wall_seconds: float, command: str | None = None, packages: dict | None = None) -> dict:
    """The record's provenance block; `command` defaults to this process's command line."""
    return {
        "command": command or " ".join(["python", *sys.argv]),
        "commit": git_commit(),
        "packages": packages if packages is not None else package_versions(),
        "machine": machine(),
        "wall_seconds": round(wall_seconds, 1),
        "date": time.strftime("%Y-%m-%d"),
    }
