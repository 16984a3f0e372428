"""A seeded fuzz corpus of 10,000 bad or odd inputs (bench/fuzz.py's `fuzz_corpus`: random
and control text, mutated real SMILES, unbalanced rings and brackets, 5,000-atom chains,
many fragments, odd isotopes, radicals, dummy atoms, unusual elements, hypervalence,
impossible charges, unicode, NUL bytes, long lines, empty lines, whitespace inside) through
the predict CLI, the Python API and Triage. For every input: its row comes back, in order;
a bad one has status "error" and a specific reason, never a traceback; an ok row's
canonical SMILES reads back in RDKit; text no SMILES holds and impossible atoms are never ok.

To stay near a minute on one core, the CLI reads the whole corpus once (CSV with a BOM and
CRLF) and a 2,000-input subsample (every 5th) in the other forms (plain CSV, .smi) and
through the API and Triage; malformed SDF records and unreadable files and checkpoints
complete the CLI's inputs (tests/test_predict_cli.py has the rest).
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
import torch
from rdkit import Chem

from bench.fuzz import IMPOSSIBLE_ATOMS, fuzz_corpus, problems, read_output, real_smiles, run_cli, write_csv
from molapp.chem.io import InputRow, read_sdf
from molapp.cli import predict as predict_cli
from molapp.inference.domain import DomainIndex
from molapp.inference.predictor import Predictor
from molapp.inference.triage import score
from tests.conftest import CHECKPOINTS

CHECKPOINT = CHECKPOINTS / "gmn-esol-random"  # the smallest shipped model
CORPUS_SIZE = 10_000
SUBSAMPLE_EVERY = 5


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return fuzz_corpus(CORPUS_SIZE)


@pytest.fixture(scope="module")
def subsample(corpus) -> list[str]:
    return corpus[::SUBSAMPLE_EVERY]


def without_nul(inputs: list[str]) -> list[str]:
    """A NUL byte near a file's start makes it binary, refused whole (tests/test_predict_cli.py);
    NUL bytes further in are `test_nul_bytes_past_a_files_start_are_rows_not_a_failure`'s."""
    return [text for text in inputs if "\0" not in text]


def assert_every_row_kept_and_judged(inputs, statuses, errors, canonical) -> None:
    assert len(statuses) == len(inputs)
    assert problems(inputs, statuses, errors, canonical) == Counter()


def assert_cli_rows(inputs: list[str], rows: list[dict[str, str]]) -> None:
    """The CLI's output matches its input row for row: position, ID and text as given (a
    leading ' is the spreadsheet guard), then the rules every path keeps."""
    assert [int(r["row"]) for r in rows] == list(range(len(inputs)))
    assert [r["smiles"].removeprefix("'") for r in rows] == [text.removeprefix("'") for text in inputs]
    assert_every_row_kept_and_judged(inputs, [r["status"] for r in rows], [r["error"] for r in rows], [r["canonical_smiles"] for r in rows])


@pytest.mark.slow
def test_the_corpus_is_seeded_and_holds_every_kind_of_bad_input(corpus):
    assert len(corpus) >= 10_000 and fuzz_corpus(300) == corpus[:300]
    assert len(real_smiles()) == 50
    joined = "\n".join(corpus)
    for sample in ("C" * 5000, "\0", "é", "Ｃ", "[U]", "[Og]", "[13C]", "[CH2]", "*", "C(C)(C)(C)(C)C", ".", "%12", *IMPOSSIBLE_ATOMS):
        assert sample in joined, sample
    assert "" in corpus and any(" " in text.strip() for text in corpus) and any(len(text) > 2000 for text in corpus)


@pytest.mark.slow
@pytest.mark.parametrize("encoding, line_end, part", [("utf-8-sig", "\r\n", "all"), ("utf-8", "\n", "subsample")])
def test_the_cli_keeps_and_judges_every_csv_row(corpus, subsample, tmp_path, encoding, line_end, part):
    inputs = without_nul(corpus if part == "all" else subsample)
    write_csv(tmp_path / "in.csv", inputs, encoding, line_end)
    code, stderr = run_cli(CHECKPOINT, tmp_path / "in.csv", tmp_path / "out.csv")
    assert code == 0 and "Traceback" not in stderr, stderr[-2000:]
    assert_cli_rows(inputs, read_output(tmp_path / "out.csv"))


@pytest.mark.slow
def test_the_cli_keeps_and_judges_every_smi_line(subsample, tmp_path):
    """.smi splits a line on whitespace (the ID follows), so only inputs without it go in."""
    inputs = [text for text in without_nul(subsample) if text == "" or text.split() == [text]]
    (tmp_path / "in.smi").write_text("".join(f"{text}\n" for text in inputs), encoding="utf-8")
    code, stderr = run_cli(CHECKPOINT, tmp_path / "in.smi", tmp_path / "out.csv")
    assert code == 0, stderr[-2000:]
    assert_cli_rows(inputs, read_output(tmp_path / "out.csv"))


@pytest.mark.slow
def test_nul_bytes_past_a_files_start_are_rows_not_a_failure(corpus, tmp_path):
    with_nul = [text for text in corpus if "\0" in text][:50]
    inputs = ["CCO"] * 1000 + with_nul  # past the 8 KB a file's binary check reads
    write_csv(tmp_path / "in.csv", inputs)
    code, stderr = run_cli(CHECKPOINT, tmp_path / "in.csv", tmp_path / "out.csv")
    rows = read_output(tmp_path / "out.csv")
    assert code == 0 and len(with_nul) == 50, stderr[-2000:]
    assert_cli_rows(inputs, rows)
    assert all(r["status"] == "error" for r in rows[1000:]) and any("U+0000" in r["error"] for r in rows[1000:])


@pytest.mark.slow
def test_the_python_api_keeps_and_judges_every_input(subsample):
    prediction = Predictor.load(CHECKPOINT, "cpu").predict(subsample)
    assert prediction.smiles == subsample and len(prediction.values) == len(subsample)
    molecules = prediction.molecules
    assert_every_row_kept_and_judged(subsample, prediction.status, [m.error for m in molecules], [m.canonical_smiles for m in molecules])


@pytest.mark.slow
def test_triage_keeps_and_judges_every_input(subsample):
    rows = [InputRow(i, str(i + 1), text) for i, text in enumerate(subsample)]
    table = score(Predictor.load(CHECKPOINT, "cpu"), DomainIndex.load(CHECKPOINT), rows, workers=1)
    assert table["row"].tolist() == list(range(len(rows))) and table["smiles"].tolist() == subsample
    assert_every_row_kept_and_judged(subsample, table["status"].tolist(), table["error"].tolist(), table["canonical_smiles"].tolist())


def _sdf_record(rng: random.Random, smiles: str) -> tuple[str, bool]:
    """One SDF record of a random kind, and whether it is readable."""
    block = Chem.MolToMolBlock(Chem.MolFromSmiles(smiles))
    lines = block.splitlines()
    kind = rng.choice(("v2000", "v3000", "bad counts", "no M  END", "empty", "garbage", "garbage with M  END", "truncated"))
    text = {
        "v2000": block,
        "v3000": Chem.MolToV3KMolBlock(Chem.MolFromSmiles(smiles)),
        "bad counts": "\n".join(lines[:3] + ["  x  y  0  0  0  0  0  0  0  0999 V2000"] + lines[4:]),
        "no M  END": "\n".join(line for line in lines if not line.startswith("M  END")),
        "empty": "",
        "garbage": "".join(rng.choice("abc XYZ 0123\n") for _ in range(80)),
        "garbage with M  END": "title\n\nnot a counts line\nM  END",
        "truncated": "\n".join(lines[:5] + ["M  END"]),
    }[kind]
    return text.rstrip("\n") + "\n$$$$\n", kind in ("v2000", "v3000")


def test_malformed_sdf_records_each_keep_their_row_and_a_reason(tmp_path):
    rng = random.Random(0)
    molecules = [smiles for smiles in real_smiles() if Chem.MolFromSmiles(smiles) is not None]
    records = [_sdf_record(rng, rng.choice(molecules)) for _ in range(120)]
    path = tmp_path / "in.sdf"
    path.write_text("".join(text for text, _ in records))
    readable = [ok for _, ok in records]
    read = list(read_sdf(path))
    assert [r.row for r in read] == list(range(len(records)))
    assert [not r.error for r in read] == readable and all(r.error.startswith(f"SDF record {r.row + 1}: ") for r in read if r.error)
    code, stderr = run_cli(CHECKPOINT, path, tmp_path / "out.csv")
    rows = read_output(tmp_path / "out.csv")
    assert code == 0 and [int(r["row"]) for r in rows] == list(range(len(records))), stderr[-2000:]
    assert all(r["error"] for r, ok in zip(rows, readable) if not ok)
    assert all(Chem.MolFromSmiles(r["canonical_smiles"]) is not None for r in rows if r["status"] == "ok")


def _no_card(tmp_path: Path) -> Path:
    (tmp_path / "empty-checkpoint").mkdir()
    return tmp_path / "empty-checkpoint"


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("checkpoint, make_input, problem", [
    (lambda tmp: tmp / "no-such-checkpoint", lambda tmp: _write(tmp / "in.smi", b"CCO\n"), "no-such-checkpoint"),
    (_no_card, lambda tmp: _write(tmp / "in.smi", b"CCO\n"), "card.json"),
    (lambda tmp: CHECKPOINT, lambda tmp: tmp / "missing.smi", "input file not found"),
    (lambda tmp: CHECKPOINT, lambda tmp: _write(tmp / "utf16.csv", "smiles\nCCO\n".encode("utf-16")), "binary"),
    (lambda tmp: CHECKPOINT, lambda tmp: _write(tmp / "body.csv", b"smiles\n" + b"CCO\n" * 3000 + b"OCC caf\xe9\n"), "not UTF-8"),
    (lambda tmp: CHECKPOINT, lambda tmp: _write(tmp / "random.sdf", bytes(random.Random(0).randrange(1, 256) for _ in range(4000))), "not UTF-8"),
    (lambda tmp: CHECKPOINT, lambda tmp: _write(tmp / "bom-only.csv", "\ufeff".encode()), "no header"),
])
def test_an_unusable_checkpoint_or_input_is_one_error_line(tmp_path, capsys, checkpoint, make_input, problem):
    code = predict_cli.main(["--checkpoint", str(checkpoint(tmp_path)), "--input", str(make_input(tmp_path)),
                             "--output", str(tmp_path / "out.csv"), "--workers", "0"])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code != 0 and len(lines) == 1 and problem in lines[0] and "Traceback" not in err, err
