"""A training run's progress as JSON lines, one event a line, appended as it happens: what
`python -m molapp.train --progress FILE` writes and the Train page reads back (a file, so it
survives page reloads and server restarts, and a reader never blocks the writer).

Events: {"event": "phase", "phase": "reading data" | "featurizing" | "training" | …} and
{"event": "epoch", "epoch": k, "max_epochs": K, "loss": …, "valid": …, "seconds": …}.
Every event carries `time` (seconds since the epoch).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path


class ProgressLog:
    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, event: dict) -> None:
        if self.path is None:
            return
        record = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in event.items()}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({**record, "time": time.time()}) + "\n")

    def phase(self, name: str, **details) -> None:
        self.write({"event": "phase", "phase": name, **details})

    def epoch(self, entry: dict) -> None:
        self.write({"event": "epoch", **entry})


def read_progress(path: str | Path) -> list[dict]:
    """The events written so far; a line being written (not yet whole) is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events
