"""The predict CLI on bad checkpoints, bad inputs and bad output paths: one clear line
naming the file and the problem, exit code 2, never a traceback; IDs guessed as the app
guesses them; CSV cells a spreadsheet would run as formulas neutralized."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from molapp.cli import predict as predict_cli

from .test_training_and_checkpoints import make_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tiny_dataset, tmp_path_factory):
    directory = tmp_path_factory.mktemp("cli") / "ck"
    make_checkpoint(tiny_dataset, directory)
    return directory


@pytest.fixture()
def molecules(tmp_path):
    path = tmp_path / "in.smi"
    path.write_text("CCO ethanol\nc1ccccc1 benzene\n")
    return path


def run(capsys, *arguments: str) -> tuple[int, str]:
    code = predict_cli.main([*arguments, "--workers", "0"])
    return code, capsys.readouterr().err


def one_line_error(err: str) -> str:
    """The one error line (progress lines may come before it when the input fails part-way)."""
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def broken_copy(checkpoint, tmp_path, name: str, content: bytes | None):
    copy = tmp_path / "broken"
    shutil.copytree(checkpoint, copy)
    path = copy / name
    path.write_bytes(content if content is not None else path.read_bytes()[: path.stat().st_size // 2])
    return copy


@pytest.mark.parametrize("name, content, problem", [
    ("weights.safetensors", None, "cannot read the weights"),  # truncated
    ("weights.safetensors", b"", "cannot read the weights"),
    ("card.json", b"[1, 2]", "not a JSON object"),
    ("card.json", b"this is not json", "not valid JSON"),
    ("card.json", json.dumps({"model": "graphmem"}).encode(), "missing field 'featurizer'"),
])
def test_a_broken_checkpoint_is_one_line_naming_the_file(checkpoint, tmp_path, molecules, capsys, name, content, problem):
    broken = broken_copy(checkpoint, tmp_path, name, content)
    code, err = run(capsys, "--checkpoint", str(broken), "--input", str(molecules), "--output", str(tmp_path / "o.csv"))
    line = one_line_error(err)
    assert code == 2 and str(broken / name) in line and problem in line


@pytest.mark.parametrize("where", ["missing/out.csv", "."])
def test_an_output_path_that_cannot_be_written_is_one_line(checkpoint, tmp_path, molecules, capsys, where):
    output = tmp_path / where
    code, err = run(capsys, "--checkpoint", str(checkpoint), "--input", str(molecules), "--output", str(output))
    line = one_line_error(err)
    assert code == 2 and f"cannot write {output}" in line


@pytest.mark.parametrize("name, content, problem", [
    ("empty.smi", b"", "is empty"),
    ("binary.smi", b"\x00\x01\x02\x03", "binary"),
    ("latin1.smi", "CCO ethanol\nCCN amine\nOCC caf\xe9\n".encode("latin-1"), "line 3 is not UTF-8"),
    ("nosmiles.csv", b"name,structure\na,CCO\n", "no column named 'smiles'"),
])
def test_an_unreadable_input_is_one_line(checkpoint, tmp_path, capsys, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    code, err = run(capsys, "--checkpoint", str(checkpoint), "--input", str(path), "--output", str(tmp_path / "o.csv"))
    line = one_line_error(err)
    assert code == 2 and str(path) in line and problem in line


@pytest.mark.parametrize("size", ["0", "-3"])
def test_chunk_size_must_be_positive(checkpoint, tmp_path, molecules, capsys, size):
    with pytest.raises(SystemExit) as exited:
        predict_cli.main(["--checkpoint", str(checkpoint), "--input", str(molecules), "--output", str(tmp_path / "o.csv"),
                          "--chunk-size", size])
    assert exited.value.code == 2 and "--chunk-size: must be a positive whole number" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_a_csv_id_column_is_picked_up_as_the_app_picks_it(checkpoint, tmp_path, capsys):
    path = tmp_path / "in.csv"
    path.write_text("Name,smiles\naspirin,CC(=O)Oc1ccccc1C(=O)O\nethanol,CCO\n")
    code, _ = run(capsys, "--checkpoint", str(checkpoint), "--input", str(path), "--output", str(tmp_path / "o.csv"))
    assert code == 0 and pd.read_csv(tmp_path / "o.csv")["id"].tolist() == ["aspirin", "ethanol"]


def test_cells_a_spreadsheet_would_run_are_neutralized(checkpoint, tmp_path, capsys):
    path = tmp_path / "in.smi"
    path.write_text('CCO =HYPERLINK("http://evil.example","x")\nCCN +1+2\nCCC @SUM(A1)\nCCCC -2+3\nc1ccccc1 benzene\n')
    code, _ = run(capsys, "--checkpoint", str(checkpoint), "--input", str(path), "--output", str(tmp_path / "o.csv"))
    written = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    assert code == 0
    assert written["id"].tolist() == ["'=HYPERLINK(\"http://evil.example\",\"x\")", "'+1+2", "'@SUM(A1)", "'-2+3", "benzene"]
    assert all(not value.startswith("'") for value in written["aromatic"])


def test_spreadsheet_safe_leaves_numbers_alone():
    from molapp.chem.io import spreadsheet_safe

    assert [spreadsheet_safe(v) for v in ["=1+1", "-1+1", "@x", "+x", "\tx", "CCO", "-1.23", "+4", -1.23, None]] == [
        "'=1+1", "'-1+1", "'@x", "'+x", "'\tx", "CCO", "-1.23", "+4", -1.23, None]
