"""Where a figure came from: the command, the code's commit, the packages, the machine and
the wall time, written into every results file by the code that ran it, as one
`"provenance"` block.

A results file written before this existed has, instead, a block saying so: derived from a
checkpoint card that records how its figure was made (`"source": "derived from <card>"`),
or `{"recorded": false}` (`bench/backfill_provenance.py`), with, where git knows them, the
commit in which the file's content landed (`"landed_in"`: the code that ran it is that
commit's or older) and the command that writes it (`"command"`, with `"command_source"`:
the file's own command field, or "reconstructed: …"). The README and RESULTS.md generators
say which (`kind`, `describe`)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotation only: the card module imports torch
    from molapp.models.card import Card

ROOT = Path(__file__).resolve().parents[2]
# The packages a figure can depend on, by distribution name.
PACKAGES = ("torch", "torch_geometric", "rdkit", "numpy", "scikit-learn", "openTSNE", "streamlit")


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
    """Python's version and each installed package's of PACKAGES (absent ones left out)."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """e.g. "x86_64 Linux, 2 CPUs (AMD EPYC 7B13)": speeds are only comparable on one."""
    return f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs ({cpu_model()})"


@dataclass(frozen=True)
class RunStart:
    """When a run started and the commit checked out then: a long run's results file names the
    code it started from, not a commit made while it ran."""

    time: float
    commit: str

    @classmethod
    def now(cls) -> RunStart:
        return cls(time.time(), git_commit())


# The commit a results file names unless told: the checkout when this process loaded its code
# (scripts import this module as they start), not one landed while a long run worked.
PROCESS_COMMIT = git_commit()


def provenance(wall_seconds: float, command: str | None = None, packages: dict | None = None, commit: str | None = None) -> dict:
    """A results file's `"provenance"` block; `command` defaults to this process's command line,
    `commit` to the checkout's when the process started (PROCESS_COMMIT)."""
    return {
        "command": command or " ".join(["python", *sys.argv]),
        "commit": commit or PROCESS_COMMIT,
        "packages": packages if packages is not None else package_versions(),
        "machine": machine(),
        "wall_seconds": round(wall_seconds, 1),
        "date": time.strftime("%Y-%m-%d"),
    }


def from_card(card: Card, card_path: str) -> dict:
    """The block for a figure written before results files carried provenance, taken from the
    checkpoint card that records the run behind it (no commit: cards did not record one)."""
    return {
        "source": f"derived from {card_path}",
        "command": card.command,
        "packages": card.packages,
        "machine": card.machine,
        "train_seconds": card.train_seconds,  # the training loop's (an ensemble's: its members' sum), not this file's wall time
        "date": card.trained_at,
    }


KINDS = ("recorded", "derived", "landed", "not recorded")


def kind(record: dict) -> str:
    """How far a results file's figure can be traced (one of KINDS): its run recorded at run
    time, derived from a checkpoint card, not recorded but with the commit it landed in, or
    not recorded."""
    block = record.get("provenance") or {"recorded": False}
    if block.get("recorded") is False:
        return "landed" if "landed_in" in block else "not recorded"
    return "derived" if "source" in block else "recorded"


def provenance_counts(results_dir: Path) -> dict[str, int]:
    """Results files by `kind`, and, of the "landed" ones, how many name a command of their
    own ("landed, own command") or a reconstructed one ("landed, command reconstructed")."""
    counts = dict.fromkeys([*KINDS, "landed, own command", "landed, command reconstructed"], 0)
    for path in Path(results_dir).glob("*.json"):
        record = json.loads(path.read_text())
        how = kind(record)
        counts[how] += 1
        block = record.get("provenance") or {}
        if how == "landed" and block.get("command"):
            counts["landed, command reconstructed" if reconstructed(block) else "landed, own command"] += 1
    return counts


def provenance_sentence(results_dir: Path) -> str:
    """One sentence on where the results files' figures come from (RESULTS.md and README say it alike)."""
    counts = provenance_counts(results_dir)
    own, rebuilt = counts["landed, own command"], counts["landed, command reconstructed"]
    without_command = counts["landed"] - own - rebuilt
    sources = (f"{own} their own, {rebuilt} reconstructed from the script that writes that file name "
               "(`command_source` says which)")
    commands = (f"{own + rebuilt} of them a command: {sources}; the other {without_command} name none"
                if without_command else f"each of them a command: {sources}")
    text = (f"of {sum(counts[k] for k in KINDS)} results files, {counts['recorded']} record the command, commit, "
            f"packages, machine and wall time of the run that wrote them; {counts['derived']} (written before that) take them "
            f"from the checkpoint card of the run behind their figure; {counts['landed']} were written before provenance was "
            "recorded (`\"recorded\": false`): their figures stand as measured then and their packages are not known, but each "
            "names the commit in which its content landed in the repository (`landed_in`; the code that ran it is that "
            f"commit's or an earlier one's), and {commands}")
    if counts["not recorded"]:
        text += f"; {counts['not recorded']} cannot be traced at all (not recorded, and git does not say where they landed)"
    return text + "."


def reconstructed(block: dict) -> bool:
    """Whether a not-recorded block's command was reconstructed rather than the file's own."""
    return str(block.get("command_source", "")).startswith("reconstructed")


def landing(block: dict) -> str:
    """e.g. "landed in commit 04b9abe3ed, 2026-11-23" for a block with `landed_in`."""
    landed = block["landed_in"]
    return f"landed in commit {landed['commit'][:10]}, {landed['date']}"


def describe(record: dict) -> str:
    """One line for a generated table: how far a results file's figure can be traced."""
    block = record.get("provenance") or {}
    how = kind(record)
    if how == "not recorded":
        return "provenance not recorded"
    if how == "landed":
        return f"provenance not recorded at run time; its content {landing(block)}"
    if how == "derived":
        return block["source"]
    return f"`{block['command']}` at {block['commit'][:10]}"
