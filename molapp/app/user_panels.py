"""The user's panels (MOLAPP_HOME/panels/<name>/): rename, delete, and move them between
machines as one zip archive of the panel's safetensors and JSON files — no pickle, and an
uploaded archive is checked before anything is written: only the file names a panel has,
sizes within limits, every JSON file a JSON object, every safetensors file readable as
safetensors, and the card and weights loadable as a model."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from safetensors import SafetensorError
from safetensors.numpy import load as load_safetensors

from molapp.jobs.home import panel_name_problem, panels_dir

# Every file a panel folder may hold (`molapp.models.checkpoint`, `inference.domain`,
# `explain.embedding_map`, `inference.calls`, `evaluation.split_predictions`).
PANEL_FILES = {
    "card.json", "weights.safetensors", "domain.json", "domain.safetensors", "test_predictions.safetensors",
    "calls.json", "approved_drugs.safetensors",
    *(f"{stem}.{ext}" for stem in ("map", "map-graph", "map-sequence") for ext in ("json", "safetensors")),
}
REQUIRED_FILES = {"card.json", "weights.safetensors"}
MAX_ARCHIVE_BYTES = 50 * 1024 * 1024  # the app's upload limit
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # all files together, unpacked
MAX_RATIO = 50  # unpacked / packed per file: beyond it, a zip bomb rather than weights


class ArchiveError(ValueError):
    """An uploaded archive that is not a panel; the message says why."""


def export_archive(panel: Path) -> bytes:
    """The panel's files as one zip (only the panel's own file names)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(panel.iterdir()):
            if path.is_file() and path.name in PANEL_FILES:
                archive.write(path, path.name)
    return buffer.getvalue()


def _check_member(info: zipfile.ZipInfo) -> None:
    if info.is_dir() or info.filename not in PANEL_FILES:
        raise ArchiveError(f"{info.filename!r} is not a panel file; an archive holds only {', '.join(sorted(PANEL_FILES))}")
    if info.file_size > MAX_UNPACKED_BYTES or (info.compress_size and info.file_size / info.compress_size > MAX_RATIO):
        raise ArchiveError(f"{info.filename} unpacks to {info.file_size / 1e6:.0f} MB: too large for a panel file")


def _check_content(name: str, content: bytes) -> None:
    if name.endswith(".json"):
        try:
            value = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ArchiveError(f"{name} is not valid JSON") from None
        if not isinstance(value, dict):
            raise ArchiveError(f"{name} is not a JSON object")
    else:
        try:
            load_safetensors(content)
        except (SafetensorError, ValueError, TypeError) as exc:
            raise ArchiveError(f"{name} is not a readable safetensors file ({str(exc).splitlines()[0] if str(exc) else 'invalid'})") from None


def import_archive(data: bytes, name: str, home: Path | None = None) -> Path:
    """Check an uploaded archive and install it as panels/<name>; an ArchiveError says what
    is wrong (nothing is written then)."""
    problem = panel_name_problem(name)
    if problem:
        raise ArchiveError(problem)
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ArchiveError(f"the archive is {len(data) / 1e6:.0f} MB, over the {MAX_ARCHIVE_BYTES / 1e6:.0f} MB limit")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ArchiveError("not a zip archive (download a panel's archive from the Train page of molapp)") from None
    root = panels_dir(home)
    target = root / name
    if target.exists():
        raise ArchiveError(f"a panel called {name!r} exists already: choose another name")
    with archive:
        members = archive.infolist()
        for info in members:
            _check_member(info)
        names = [info.filename for info in members]
        if len(set(names)) != len(names):
            raise ArchiveError("the archive holds a file twice")
        missing = REQUIRED_FILES - set(names)
        if missing:
            raise ArchiveError(f"the archive lacks {', '.join(sorted(missing))}")
        if sum(info.file_size for info in members) > MAX_UNPACKED_BYTES:
            raise ArchiveError(f"the archive unpacks to more than {MAX_UNPACKED_BYTES / 1e6:.0f} MB")
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=root))
        try:
            for info in members:
                content = archive.read(info)
                if len(content) != info.file_size:
                    raise ArchiveError(f"{info.filename} is not the size the archive says")
                _check_content(info.filename, content)
                (staging / info.filename).write_bytes(content)
            _check_loads(staging)
            staging.replace(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return target


def _check_loads(directory: Path) -> None:
    from molapp.models.checkpoint import load_checkpoint

    try:
        _, card = load_checkpoint(directory)
    except (ValueError, FileNotFoundError) as exc:
        raise ArchiveError(f"not a panel this molapp can load: {str(exc).replace(str(directory) + '/', '')}") from None
    if not card.datasets or not all(card.datasets) or not card.split or (not card.metrics and not card.is_deployment):
        raise ArchiveError("card.json lacks what a panel's card has (dataset, split, task_type, metrics)")


def _check_user_panel(panel: Path) -> None:
    if panel.parent.name != "panels" or not (panel / "card.json").exists():
        raise ValueError(f"{panel.name} is not one of your panels")


def rename_panel(panel: Path, new_name: str) -> Path:
    _check_user_panel(panel)
    problem = panel_name_problem(new_name)
    if problem:
        raise ValueError(problem)
    target = panel.parent / new_name
    if target.exists():
        raise ValueError(f"a panel called {new_name!r} exists already")
    panel.rename(target)
    return target


def delete_panel(panel: Path) -> None:
    _check_user_panel(panel)
    shutil.rmtree(panel)
