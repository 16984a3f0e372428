"""Fuzz the predict CLI with a seeded corpus of bad and odd SMILES, and write what came back
to bench/results/fuzz.json: rows lost, crashes, tracebacks, ok rows whose canonical SMILES
RDKit cannot read, and the commonest error reasons. tests/test_fuzz.py runs the same corpus
(`fuzz_corpus`) through the CLI, the Python API and Triage.

    .venv/bin/python bench/fuzz.py [--size 20000] [--checkpoint checkpoints/gmn-esol-random]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rdkit import Chem  # noqa: E402

from molapp.cli import predict as predict_cli  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
DEFAULT_CHECKPOINT = ROOT / "checkpoints" / "gmn-esol-random"  # the smallest shipped model: one task, 64 wide
# Atoms no element can be: the standardizer must flag each, whatever surrounds it.
IMPOSSIBLE_ATOMS = ("[C+16]", "[999C]", "[65535C]")
# What a reason must not be: too vague to act on, or a Python exception leaking through.
GENERIC_REASONS = ("syntax error", "RDKit could not read this molecule")
LEAKED_EXCEPTION = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception)\b")
# Outside printable ASCII, after the ASCII whitespace around a SMILES is trimmed: never scored.
_NOT_SMILES_TEXT = re.compile(r"[^\x21-\x7e]")
_SMILES_ALPHABET = "CNOSPFIBrcnos()[]=#-+\\/@.%123456789*Hl"
_ODD_ATOMS = ("[13C]", "[2H]", "[CH2]", "[CH3]", "[CH]", "*", "[*]", "[U]", "[Og]", "[Xe]", "[Xx]", "[Fe]", "[Na+]",
              "[N+5]", "[O-5]", "[C-4]", "[0C]", "[CH5]", "[SiH6]", *IMPOSSIBLE_ATOMS)
_HYPERVALENT = ("C(C)(C)(C)(C)C", "FC(F)(F)(F)F", "[CH5]", "O(C)(C)C", "N(=O)(=O)=O", "ClC(Cl)(Cl)(Cl)Cl")
_ODD_TEXT = ("é", "Ｃ", "ＣＣＯ", "\u200b", "\u00a0", "\u3000", "\ufeff", "ß", "🧪", "\u202e", "\x00", "\x07", "\x1b", "\x7f",
             "\x0b", "\x0c", "\x1c", "\x85", " ", "\t", "\r", "\n", '"', ",", "'")


def real_smiles(limit: int = 50) -> list[str]:
    """Real molecules from the test fixtures, the seeds that mutations start from."""
    found = [line.split()[0] for line in (FIXTURES / "tiny_molecules.smi").read_text().splitlines() if line.strip()]
    for name in ("bbbp", "esol", "clintox"):
        with open(FIXTURES / "ladder" / f"{name}.csv", newline="") as handle:
            found += [record["smiles"] for record in csv.DictReader(handle)]
    return list(dict.fromkeys(found))[:limit]


def _mutated(rng: random.Random, smiles: str) -> str:
    """A real SMILES with one to three characters deleted, inserted or swapped."""
    chars = list(smiles)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(chars) + 1)
        edit = rng.choice(("delete", "insert", "swap"))
        if edit == "delete" and at < len(chars):
            del chars[at]
        elif edit == "swap" and at + 1 < len(chars):
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
        else:
            chars.insert(at, rng.choice(_SMILES_ALPHABET))
    return "".join(chars)


def _unbalanced(rng: random.Random, smiles: str) -> str:
    """A real SMILES with an extra ring digit, bracket or parenthesis somewhere in it."""
    at = rng.randrange(len(smiles) + 1)
    return smiles[:at] + rng.choice(("1", "9", "%12", "(", ")", "[", "]", "((", "[C")) + smiles[at:]


def _random_text(rng: random.Random, alphabet: str, longest: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, longest)))


def _with_odd_text(rng: random.Random, smiles: str) -> str:
    """A real SMILES with a character that is not SMILES (unicode, control, whitespace) inside."""
    at = rng.randrange(len(smiles) + 1)
    return smiles[:at] + rng.choice(_ODD_TEXT) + smiles[at:]


def _makers(rng: random.Random, seeds: Sequence[str]) -> list[Callable[[], str]]:
    """One maker per kind of bad or odd input; the corpus draws from them in turn."""
    pick = lambda: rng.choice(seeds)  # noqa: E731
    return [
        lambda: _random_text(rng, "".join(map(chr, range(32, 127))), 40),
        lambda: _random_text(rng, "".join(map(chr, range(0, 256))), 40),
        lambda: _random_text(rng, _SMILES_ALPHABET, 60),
        lambda: _mutated(rng, pick()),
        lambda: _mutated(rng, pick()),
        lambda: _unbalanced(rng, pick()),
        lambda: "C" * rng.choice((251, 1999, 2001, 5000)),
        lambda: "c1ccccc1" * rng.choice((32, 40, 300)),  # past MAX_HEAVY_ATOMS, and past MAX_SMILES_LENGTH
        lambda: ".".join(rng.choice(seeds) for _ in range(rng.randint(2, 8))),
        lambda: "C." * rng.randint(2, 900) + "C",
        lambda: pick() + rng.choice(_ODD_ATOMS),
        lambda: rng.choice(_ODD_ATOMS) + pick(),
        lambda: rng.choice(_HYPERVALENT),
        lambda: "C" + rng.choice(IMPOSSIBLE_ATOMS) + "C",
        lambda: _with_odd_text(rng, pick()),
        lambda: _random_text(rng, "CNO()=#1", 3000),
        lambda: rng.choice(("", " ", "\t", "  \t ", "\r")),
        lambda: rng.choice((" ", "\t")) + pick() + rng.choice((" ", "\t", "")),
        lambda: pick(),
    ]


def fuzz_corpus(size: int, seed: int = 0) -> list[str]:
    """`size` bad or odd inputs, the same for the same seed: every kind in turn, so a small
    corpus still has each."""
    rng = random.Random(seed)
    makers = _makers(rng, real_smiles())
    return [makers[i % len(makers)]() for i in range(size)]


def must_be_error(text: str) -> bool:
    """What may never be scored, whatever else the input holds: nothing, too long, text a
    SMILES cannot contain (whitespace inside, non-ASCII, control characters) or an impossible atom."""
    inner = text.strip(" \t\r\n")
    return (not inner or len(inner) > 2000 or _NOT_SMILES_TEXT.search(inner) is not None
            or any(atom in text for atom in IMPOSSIBLE_ATOMS))


def problems(inputs: Sequence[str], statuses: Sequence[str], errors: Sequence[str], canonical: Sequence[str]) -> Counter:
    """Rule breaks among rows already matched one-to-one with their inputs, counted by rule."""
    found: Counter = Counter()
    for text, status, error, smiles in zip(inputs, statuses, errors, canonical, strict=True):
        if status == "ok":
            found["ok rows with unparseable SMILES"] += Chem.MolFromSmiles(smiles) is None
            found["ok rows that must be errors"] += must_be_error(text)
        else:
            found["error rows without a reason"] += not error.strip()
            found["generic reasons"] += error.endswith(GENERIC_REASONS)
            found["tracebacks shown"] += LEAKED_EXCEPTION.search(error) is not None
    return +found


def reason_kind(error: str) -> str:
    """An error reason with its particulars (numbers, quoted text, RDKit's detail) left out,
    so reasons of one kind count together."""
    general = re.sub(r"'[^']*'", "'…'", re.sub(r"\d+", "N", error))
    return ": ".join(general.split(": ")[: 2 if general.startswith("unparseable") else 1])


def write_csv(path: Path, inputs: Sequence[str], encoding: str = "utf-8-sig", line_end: str = "\r\n") -> None:
    """The inputs as a CSV (id, smiles) written by the csv module: fields with commas,
    quotes or line breaks are quoted. It quotes a lone CR only when the line end holds one,
    so an LF file quotes every field (else the CR would end a row in any reader)."""
    quoting = csv.QUOTE_MINIMAL if "\r" in line_end else csv.QUOTE_ALL
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, lineterminator=line_end, quoting=quoting)
        writer.writerow(["id", "smiles"])
        writer.writerows([str(i + 1), text] for i, text in enumerate(inputs))


def read_output(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run_cli(checkpoint: Path, input_path: Path, output_path: Path) -> tuple[int, str]:
    """The CLI in this process on one core, as a user runs it; its exit code and stderr."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = predict_cli.main(["--checkpoint", str(checkpoint), "--input", str(input_path), "--output", str(output_path),
                                 "--workers", "0", "--threads", "1", "--device", "cpu"])
    return code, stderr.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=20_000, help="inputs in the corpus")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fuzz.json")
    args = parser.parse_args()

    # NUL bytes make a file binary (refused whole, by design), so they are fuzzed through the API and Triage only.
    inputs = [text for text in fuzz_corpus(args.size, args.seed) if "\0" not in text]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        input_path, output_path = Path(scratch) / "fuzz.csv", Path(scratch) / "out.csv"
        write_csv(input_path, inputs)
        try:
            code, stderr = run_cli(args.checkpoint, input_path, output_path)
            crashes = int(code != 0)
        except Exception:  # noqa: BLE001 - a crash is what this counts
            code, stderr, crashes = -1, "", 1
        rows = read_output(output_path) if output_path.exists() else []
    wall = time.perf_counter() - start
    in_order = [int(r["row"]) for r in rows] == list(range(len(rows)))
    matched = inputs[: len(rows)] if in_order else []
    found = problems(matched, [r["status"] for r in rows], [r["error"] for r in rows], [r["canonical_smiles"] for r in rows]) if in_order else Counter()
    reasons = Counter(reason_kind(r["error"]) for r in rows if r["status"] == "error")
    record = {
        "inputs_tried": len(inputs),
        "inputs_with_nul_left_out": args.size - len(inputs),
        "rows_returned": len(rows),
        "rows_lost": len(inputs) - len(rows),
        "rows_in_input_order": in_order,
        "crashes": crashes,
        "exit_code": code,
        "tracebacks_shown": int("Traceback" in stderr) + found["tracebacks shown"],
        "ok_rows": sum(r["status"] == "ok" for r in rows),
        "ok_rows_with_unparseable_smiles": found["ok rows with unparseable SMILES"],
        "ok_rows_that_must_be_errors": found["ok rows that must be errors"],
        "error_rows_without_reason": found["error rows without a reason"],
        "generic_reasons": found["generic reasons"],
        "error_reasons_top20": dict(reasons.most_common(20)),
        "checkpoint": str(args.checkpoint.relative_to(ROOT) if args.checkpoint.is_relative_to(ROOT) else args.checkpoint),
        "inputs_per_second": round(len(inputs) / wall, 1),
        "provenance": provenance(wall),
    }
    args.out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: record[k] for k in ("inputs_tried", "rows_returned", "rows_lost", "crashes", "tracebacks_shown",
                                             "ok_rows_with_unparseable_smiles", "ok_rows_that_must_be_errors", "generic_reasons")}))
    return 0 if record["rows_lost"] == 0 and not crashes and not found else 1


if __name__ == "__main__":
    raise SystemExit(main())
