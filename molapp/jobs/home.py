"""The user's directory, `MOLAPP_HOME` (default ~/.molapp), never the repository:
`panels/<name>/` holds the panels a user trained or uploaded, `jobs/<id>/` the training
jobs (their state, progress, log and uploaded data)."""

from __future__ import annotations

import os
import re
from pathlib import Path

PANEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def molapp_home() -> Path:
    return Path(os.environ.get("MOLAPP_HOME") or Path.home() / ".molapp").expanduser()


def panels_dir(home: Path | None = None) -> Path:
    return (home or molapp_home()) / "panels"


def jobs_dir(home: Path | None = None) -> Path:
    return (home or molapp_home()) / "jobs"


def panel_name_problem(name: str) -> str:
    """Why `name` cannot name a panel folder, or "" when it can."""
    if not name:
        return "give the panel a name"
    if not PANEL_NAME.match(name) or name in (".", "..") or ".." in name:
        return "a panel name is 1–64 letters, digits, '-', '_' or '.', starting with a letter or digit"
    return ""
