"""Bring your own assay (issue 30): checking a user's file, `python -m molapp.train --data`,
background jobs (state on disk, restart, queue, cancel) and user panels (list, rename,
archive round trip)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from molapp.cli import train as train_cli
from molapp.data.user_data import MIN_ROWS, check_user_data, read_target
from molapp.models.card import DataColumns
from molapp.models.checkpoint import read_card
from molapp.training.presets import PRESETS

from .conftest import FIXTURES

ASSAY = FIXTURES / "user_assay.csv"
BAD = FIXTURES / "user_assay_bad.csv"
TINY = ["--max-epochs", "2", "--hidden", "16", "--hops", "2", "--threads", "1"]


def kinds(problems) -> set[str]:
    return {p.kind for p in problems}


def test_task_type_is_read_from_the_values():
    assert read_target(["active", "Inactive", "", "ACTIVE"])[0] == "classification"
    assert read_target(["1", "0", "NA", "1.0"])[0] == "classification"
    kind, values, missing, bad = read_target(["1.5", "-2", "", "n/a"])
    assert kind == "regression" and missing == [2, 3] and bad == [] and values[0] == 1.5
    kind, _, _, bad = read_target(["1.5", ">10", "n.t."])
    assert kind == "regression" and bad == [1, 2]
    kind, _, _, bad = read_target(["active", "inactive", "maybe", "1"])
    assert kind == "classification" and bad == [2]


def test_a_clean_file_passes(tmp_path):
    data = check_user_data(ASSAY, "smiles", ["activity"], "scaffold")
    assert data.report.ok and data.report.notes == [] and len(data.smiles) == 80
    assert data.spec.task_type == "classification" and data.labels.shape == (80, 1)
    regression = check_user_data(ASSAY, "smiles", ["log_solubility"], "random", units={"log_solubility": "log mol/L"})
    assert regression.report.ok and regression.spec.task_type == "regression" and regression.spec.units == "log mol/L"


def test_bad_rows_are_named_with_their_rows_and_nothing_is_dropped_silently():
    data = check_user_data(BAD, "smiles", ["log_solubility"], "random")
    notes = {p.kind: p for p in data.report.notes}
    assert notes["unusable_smiles"].rows == [3, 6]
    assert "unclosed ring" in notes["unusable_smiles"].message
    assert notes["no_label"].rows == [43]
    assert notes["duplicates"].rows == [1, 2, 41, 42]
    # row 1 and its duplicate (row 41) agree on solubility; only the class column disagrees
    assert "conflicting_duplicates" not in notes
    # every row read is accounted for: kept (some merged), unusable or unlabelled
    assert data.report.rows_read == 43
    assert sum(len(r) for r in data.source_rows) + 2 + 1 == 43

    classes = check_user_data(BAD, "smiles", ["activity"], "random")
    assert [p.rows for p in classes.report.errors if p.kind == "non_numeric_target"] == [[8]]
    assert "row 8 is not a class label" in classes.report.errors[0].message and "'maybe'" in classes.report.errors[0].message


def test_conflicting_duplicates_are_resolved_and_reported(tmp_path):
    path = tmp_path / "dups.csv"
    lines = ASSAY.read_text().splitlines()
    first = lines[1].split(",")
    flipped = "inactive" if first[2] == "active" else "active"
    extra = [f"X1,{first[1]},{flipped},-1.0", f"X2,{first[1]},{flipped},-3.0"]  # rows 81, 82: two against one
    path.write_text("\n".join(lines + extra) + "\n")
    data = check_user_data(path, "smiles", ["activity"], "random")
    conflict = next(p for p in data.report.notes if p.kind == "conflicting_duplicates")
    assert conflict.rows == [1, 81, 82] and "majority" in conflict.message
    assert data.labels[data.smiles.index(data.smiles[0]), 0] == (1.0 if flipped == "active" else 0.0)
    numbers = check_user_data(path, "smiles", ["log_solubility"], "random")
    conflict = next(p for p in numbers.report.notes if p.kind == "conflicting_duplicates")
    assert "mean" in conflict.message and conflict.rows == [1, 81, 82]


def test_blocking_problems(tmp_path):
    one_class = tmp_path / "one_class.csv"
    one_class.write_text("smiles,y\n" + "".join(f"{'C' * (i + 1)}O,active\n" for i in range(60)))
    assert "one_class" in kinds(check_user_data(one_class, "smiles", ["y"]).report.errors)

    few = tmp_path / "few.csv"
    few.write_text("smiles,y\nCCO,1\nCCN,0\nCCC,1\n")
    errors = check_user_data(few, "smiles", ["y"]).report.errors
    too_few = next(p for p in errors if p.kind == "too_few_rows")
    assert f"at least {MIN_ROWS}" in too_few.message and "3 usable" in too_few.message

    big = check_user_data(ASSAY, "smiles", ["activity"], max_bytes=100)
    assert kinds(big.report.errors) == {"file_too_large"} and "upload limit" in big.report.errors[0].message

    missing = check_user_data(ASSAY, "smiles", ["pIC50"])
    assert kinds(missing.report.errors) == {"unreadable"} and "pIC50" in missing.report.errors[0].message


def test_sdf_targets_come_from_sd_properties(tmp_path):
    from rdkit import Chem

    lines = ASSAY.read_text().splitlines()[1:]
    writer = Chem.SDWriter(str(tmp_path / "assay.sdf"))
    for line in lines:
        ident, smiles, activity, _ = line.split(",")
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("_Name", ident)
        mol.SetProp("activity", activity)
        writer.write(mol)
    writer.close()
    data = check_user_data(tmp_path / "assay.sdf", None, ["activity"], "random")
    assert data.report.ok and len(data.smiles) == 80 and data.spec.task_type == "classification"


@pytest.mark.slow
def test_cli_trains_on_a_csv_and_writes_a_full_panel(tmp_path, capsys):
    out = tmp_path / "panel"
    code = train_cli.main(["--data", str(ASSAY), "--smiles-column", "smiles", "--targets", "log_solubility", "--units", "log mol/L",
                           "--split", "random", "--model", "gcn", "--preset", "quick", *TINY, "--out", str(out),
                           "--progress", str(tmp_path / "progress.jsonl")])
    assert code == 0, capsys.readouterr().err
    card = read_card(out)
    assert card.source == "user" and card.is_user_data
    assert card.data_file.name == "user_assay.csv" and len(card.data_file.sha256) == 64 and card.data_file.rows == card.data_report.rows_read
    assert card.columns == DataColumns("smiles", ["log_solubility"]) and card.targets is None
    assert card.task_type == "regression" and card.output == "target_scale" and card.task_units == {"log_solubility": "log mol/L"}
    assert card.split == "random" and "generated random" in card.split_source["user_assay"]
    assert card.preset == "quick" and card.hyperparameters["max_epochs"] == 2  # the explicit flag wins
    assert card.hyperparameters["patience"] == PRESETS["quick"].patience
    assert set(card.metrics["test"]) == {"log_solubility", "mean"} and "log_solubility" in card.metrics["valid"]
    for name in ("weights.safetensors", "domain.safetensors", "test_predictions.safetensors", "map.safetensors", "map.json", "calls.json"):
        assert (out / name).exists(), name
    epochs = [json.loads(line) for line in (tmp_path / "progress.jsonl").read_text().splitlines() if '"epoch"' in line]
    assert [e["epoch"] for e in epochs] == [1, 2]

    from molapp.app.panels import Panel
    from molapp.inference.predictor import Predictor

    assert Panel(out, card).units("log_solubility") == "log mol/L"
    prediction = Predictor.load(out, "cpu").predict(["CCO"])
    assert np.isfinite(prediction.values).all()


def test_cli_refuses_bad_data_with_the_rows(tmp_path, capsys):
    code = train_cli.main(["--data", str(BAD), "--targets", "activity", *TINY, "--out", str(tmp_path / "never")])
    err = capsys.readouterr().err
    assert code == 2 and "error: target 'activity' (classification): row 8 is not a class label" in err
    assert "note: 2 rows have a structure that cannot be used" in err
    assert not (tmp_path / "never").exists()


# --- background jobs ---------------------------------------------------------------------

def wait_for(condition, timeout: float = 120.0, step: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def quick_args(*extra: str) -> list[str]:
    return ["--data", "{data}", "--smiles-column", "smiles", "--targets", "activity", "--split", "random", "--threads", "1", *extra]


@pytest.mark.slow
def test_a_job_survives_a_server_restart_and_becomes_a_panel(tmp_path):
    from molapp.app.panels import list_user_panels
    from molapp.jobs.manager import DONE, JobManager

    job = JobManager(tmp_path).submit("my-assay", quick_args("--model", "gcn", "--max-epochs", "2", "--hidden", "16"), ASSAY)
    assert job.status == "running"
    # "the server restarts": a new manager knows the job only from the files on disk
    restarted = JobManager(tmp_path)
    assert [j.id for j in restarted.jobs()] == [job.id]
    finished = wait_for(lambda: (j := restarted.job(job.id)).status in ("done", "failed") and j)
    assert finished.status == DONE, (finished.reason, (finished.directory / "log.txt").read_text()[-2000:])
    assert [e["epoch"] for e in finished.epochs()] == [1, 2]
    panels = list_user_panels(tmp_path)
    assert [p.path.name for p in panels] == ["my-assay"] and panels[0].is_user
    assert panels[0].card.data_file.name == "user_assay.csv"
    assert not finished.out.exists()


@pytest.mark.slow
def test_jobs_queue_beyond_the_slots_and_cancelling_stops_the_process(tmp_path):
    from molapp.jobs.manager import CANCELLED, QUEUED, RUNNING, JobManager, process_alive

    manager = JobManager(tmp_path, max_running=1)
    long = quick_args("--model", "gcn", "--max-epochs", "500", "--patience", "500", "--hidden", "16")
    first = manager.submit("first", long, ASSAY)
    second = manager.submit("second", long, ASSAY)
    assert first.status == RUNNING and second.status == QUEUED and manager.queue_position(second) == 1
    with pytest.raises(ValueError, match="already called"):
        manager.submit("second", long, ASSAY)
    wait_for(lambda: manager.job(first.id).epochs())  # training, not just starting
    pid = manager.job(first.id).state["pid"]
    manager.cancel(first.id)
    assert manager.job(first.id).status == CANCELLED
    wait_for(lambda: not process_alive(pid, first.id), timeout=10)
    assert not manager.job(first.id).out.exists()
    # the slot freed: the queued job started
    assert JobManager(tmp_path, max_running=1).job(second.id).status == RUNNING
    manager.cancel(second.id)
    assert manager.job(second.id).status == CANCELLED
    assert not (tmp_path / "panels").exists() or not any((tmp_path / "panels").iterdir())


@pytest.mark.slow
def test_a_failing_job_shows_its_reason_not_a_traceback(tmp_path):
    from molapp.jobs.manager import FAILED, JobManager

    manager = JobManager(tmp_path)
    job = manager.submit("bad", ["--data", "{data}", "--targets", "activity", "--threads", "1"], BAD)
    failed = wait_for(lambda: (j := manager.job(job.id)).status in ("done", "failed") and j)
    assert failed.status == FAILED
    assert "row 8 is not a class label" in failed.reason and "Traceback" not in failed.reason


# --- user panels -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained_panel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("home") / "panels" / "assay"
    assert train_cli.main(["--data", str(ASSAY), "--targets", "activity", "--split", "random", "--model", "gcn", *TINY, "--out", str(out)]) == 0
    return out


def test_user_panels_rename_delete_and_archive_round_trip(trained_panel, tmp_path):
    from molapp.app.panels import list_panels
    from molapp.app.user_panels import ArchiveError, delete_panel, export_archive, import_archive, rename_panel

    home = trained_panel.parent.parent
    archive = export_archive(trained_panel)
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert "card.json" in names and "weights.safetensors" in names and all(n.endswith((".json", ".safetensors")) for n in names)

    other_home = tmp_path / "elsewhere"
    imported = import_archive(archive, "copy", other_home)
    assert imported.name == "copy" and (imported / "map.safetensors").exists()
    assert any(p.path == imported and p.is_user for p in list_panels(user_home=other_home))

    renamed = rename_panel(imported, "renamed")
    assert renamed.name == "renamed" and not imported.exists()
    delete_panel(renamed)
    assert not renamed.exists()
    assert trained_panel.exists() and home.exists()

    def zipped(files: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            for name, content in files.items():
                z.writestr(name, content)
        return buffer.getvalue()

    good = dict((n, zipfile.ZipFile(io.BytesIO(archive)).read(n)) for n in names)
    with pytest.raises(ArchiveError, match="not a panel file"):
        import_archive(zipped({**good, "weights.pt": b"pickle"}), "x", other_home)
    with pytest.raises(ArchiveError, match="not a panel file"):
        import_archive(zipped({**good, "../evil.json": b"{}"}), "x", other_home)
    with pytest.raises(ArchiveError, match="safetensors"):
        import_archive(zipped({**good, "weights.safetensors": b"\x00" * 64}), "x", other_home)
    with pytest.raises(ArchiveError, match="JSON"):
        import_archive(zipped({**good, "card.json": b"not json"}), "x", other_home)
    with pytest.raises(ArchiveError, match="zip"):
        import_archive(b"plain bytes", "x", other_home)
    assert not (other_home / "panels" / "x").exists()


def test_the_train_page_lists_jobs_from_disk_with_reasons_and_the_users_panels(trained_panel, monkeypatch):
    """The page reads jobs and panels back from MOLAPP_HOME: a finished job, a failed one
    with its reason (no traceback), a queued one with its place in line; and the panel."""
    from streamlit.testing.v1 import AppTest

    from molapp.jobs.manager import _write_json

    from .conftest import ROOT

    home = trained_panel.parent.parent
    monkeypatch.setenv("MOLAPP_HOME", str(home))
    monkeypatch.setenv("MOLAPP_TRAINING_SLOTS", "1")
    for k, (status, extra) in enumerate([("done", {"panel": "assay", "metrics": {"test": {"mean": 0.81}}}),
                                         ("failed", {"reason": "target 'y' has one class only"}),
                                         ("running", {"pid": 1}),  # pid 1 is not a job: found dead, marked failed
                                         ]):
        job = home / "jobs" / f"job{k}"
        job.mkdir(parents=True)
        _write_json(job / "state.json", {"status": status, **extra})
        _write_json(job / "job.json", {"name": f"job{k}", "title": "GCN on x.csv", "train_args": [], "created": k})
    at = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=120).run()
    assert not at.exception
    successes = " ".join(s.value for s in at.success)
    errors = " ".join(e.value for e in at.error)
    assert "Panel **assay** is ready: test 0.810" in successes
    assert "one class only" in errors and "stopped unexpectedly" in errors and "Traceback" not in errors
    assert any("**assay**" in m.value and "GCN" in m.value for m in at.markdown)
