"""Standardization never changes what the user asked about without saying so, and no
SMILES, however odd, costs more than its own row (issues 26 and 27)."""

from __future__ import annotations

import csv
import io
import logging
import random
import threading
import time

import pandas as pd
import pytest
from rdkit import Chem

from molapp.chem.io import InputRow
from molapp.chem.standardize import MAX_SMILES_LENGTH, standardize
from molapp.cli import predict as predict_cli
from molapp.data.featurize import featurize_smiles

from .conftest import CHECKPOINTS, needs_shared_data, shared_data_dir

CISPLATIN = "N.N.Cl[Pt]Cl"
FERROCENE = "[CH-]1C=CC=C1.[CH-]1C=CC=C1.[Fe+2]"
SODIUM_ACETATE = "CC(=O)[O-].[Na+]"
GLYCINE_ZWITTERION = "[NH3+]CC(=O)[O-]"
CUT_MID_CHARACTER = "C(" + "é" * 20  # RDKit's log cuts its quote of this inside an 'é'


# --- issue 26: metal complexes, inorganic salts, salts of organic molecules ---------------


@pytest.mark.parametrize(
    "smiles, reason",
    [
        (CISPLATIN, "metal complex (Pt)"),
        (FERROCENE, "metal complex (Fe)"),
        ("[Fe+2].[cH-]1cccc1.[cH-]1cccc1", "metal complex (Fe)"),
        ("CC[Hg]Cl", "metal complex (Hg)"),
        ("[Li]CCCC", "metal complex (Li)"),  # an organolithium: the C–Li bond is not a salt's
        ("[Na+].[Cl-]", "inorganic salt ClNa, no organic fragment"),
        ("Cl[Ba]Cl", "inorganic salt BaCl2, no organic fragment"),
        ("[Cu+2].[O-]S(=O)(=O)[O-]", "inorganic salt CuO4S, no organic fragment"),
        ("N", "inorganic compound H3N, no organic fragment"),
        ("[cH-]1cccc1", "standardized form c1cccc1 does not read back"),
    ],
)
def test_metal_complexes_and_inorganics_are_flagged_not_swapped(smiles, reason):
    result = standardize(smiles)
    assert not result.ok and result.canonical_smiles == ""
    assert result.error.startswith(reason), result.error


def test_a_metal_complex_says_the_models_do_not_cover_it():
    assert standardize(CISPLATIN).error == "metal complex (Pt): models cover organic molecules; not scored"


def test_salts_of_organic_molecules_stay_scoreable_with_the_change_recorded():
    acetate = standardize(SODIUM_ACETATE)
    assert acetate.ok and acetate.canonical_smiles == "CC(=O)O"
    assert acetate.changes[0] == "stripped Na+" and acetate.changes[1].startswith("neutralized charges")
    written_as_bonded = standardize("CC(=O)O[Na]")  # the ionic bond drawn as a covalent one
    assert written_as_bonded.ok and written_as_bonded.canonical_smiles == "CC(=O)O"
    assert written_as_bonded.changes[0] == "stripped Na+"
    magnesium = standardize("CC(=O)[O-].CC(=O)[O-].[Mg+2]")
    assert magnesium.ok and magnesium.canonical_smiles == "CC(=O)O" and magnesium.changes[0] == "stripped C2H3O2-, Mg+2"


def test_a_zwitterion_stays_scoreable_with_the_change_recorded():
    glycine = standardize(GLYCINE_ZWITTERION)
    assert glycine.ok and glycine.canonical_smiles == "NCC(=O)O"
    assert len(glycine.changes) == 1 and glycine.changes[0].startswith("neutralized charges")


# --- issue 27: parsing ------------------------------------------------------------------


def test_a_smiles_whose_rdkit_message_is_cut_mid_character_is_one_flagged_row():
    result = standardize(CUT_MID_CHARACTER)
    assert not result.ok
    assert result.error == "non-ASCII character 'é' (U+00E9) at position 3"
    molecules = featurize_smiles(["CCO", CUT_MID_CHARACTER, "c1ccccc1"])
    assert [m.ok for m in molecules] == [True, False, True]


@pytest.mark.parametrize(
    "smiles, reason",
    [
        ("C1CC", "unparseable SMILES: unclosed ring 1"),
        ("C%12CC", "unparseable SMILES: unclosed ring %12"),
        ("CC(C", "unparseable SMILES: unclosed branch '(' at position 3"),
        ("CC)C", "unparseable SMILES: ')' at position 3 closes no branch"),
        ("C[CH3", "unparseable SMILES: unclosed '[' at position 2"),
        ("CC]C", "unparseable SMILES: ']' at position 3 closes no atom"),
        ("CCX", "unparseable SMILES: unknown atom 'X' at position 3"),
        ("C(=)C", "unparseable SMILES: ')' at position 4 follows a bond: an empty branch or a dangling bond"),
        ("C()C", "unparseable SMILES: ')' at position 3 follows '('"),
        ("CC=(O)C", "unparseable SMILES: '(' at position 4 follows a bond"),
        (".CC", "unparseable SMILES: '.' at position 1 follows no atom"),
        ("CC=", "unparseable SMILES: the SMILES ends with '=', which bonds to nothing"),
        ("[Xx]C", "unparseable SMILES: unknown element 'Xx' in '[Xx]' at position 1"),
        ("[C@rH]C", "unparseable SMILES: malformed bracket atom '[C@rH]' at position 1"),
        ("\xa0CCO", "non-ASCII character (U+00A0) at position 1"),  # trimmed: ASCII whitespace only
        ("CCO\x0c", "whitespace inside the SMILES at position 4"),
        ("C." * 150 + "C", "too many fragments: 151 (limit 100)"),
        ("ＣCO", "non-ASCII character 'Ｃ' (U+FF23) at position 1"),
        ("CN(C)\tC=N", "whitespace inside the SMILES at position 6"),
        ("not a smiles", "whitespace inside the SMILES at position 4"),
        ("CC\x00O", "control character U+0000 at position 3"),
        ("CC\x7fO", "control character U+007F at position 3"),
    ],
)
def test_parse_errors_name_what_is_wrong(smiles, reason):
    result = standardize(smiles)
    assert not result.ok and result.error.startswith(reason), result.error
    result.error.encode("utf-8")  # always valid text to show


def test_surrounding_whitespace_is_not_an_error():
    assert standardize("  CCO \n").canonical_smiles == "CCO"


def test_parse_errors_leave_rdkits_process_wide_logging_alone(monkeypatch):
    """No handler on the `rdkit` logger and no log switched on or off per call: with threads,
    a process-wide switch lets one call read another call's message."""
    from rdkit import RDLogger, rdBase

    changed: list[str] = []

    def spy(name, original):
        def wrapper(*args, **kwargs):
            changed.append(name)
            return original(*args, **kwargs)
        return wrapper

    for module in (RDLogger, rdBase):
        for name in ("EnableLog", "DisableLog"):
            monkeypatch.setattr(module, name, spy(name, getattr(module, name)))
    add_handler = logging.Logger.addHandler
    monkeypatch.setattr(logging.Logger, "addHandler",
                        lambda logger, handler: (changed.append(logger.name) if logger.name.startswith("rdkit") else None,
                                                 add_handler(logger, handler)))
    for smiles in ("C1CC", "CC(C)(C)(C)(C)C", "c1cccc1", "CCX", "C(=)C"):
        assert not standardize(smiles).ok
    assert changed == []


def test_parse_errors_in_threads_quote_their_own_smiles():
    smiles = [f"C%{10 + k}CC" for k in range(40)]
    expected = {s: standardize(s).error for s in smiles}
    seen: dict[str, set[str]] = {s: set() for s in smiles}

    def work(chosen: list[str]) -> None:
        for _ in range(20):
            for s in chosen:
                seen[s].add(standardize(s).error)

    threads = [threading.Thread(target=work, args=(smiles[k::8],)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(seen[s] == {expected[s]} for s in smiles)
    assert all(f"%{10 + k}" in expected[s] for k, s in enumerate(smiles))


@pytest.mark.parametrize("smiles", ["c1ccccc1" * 5000, "C(" * 20000, "C" * (MAX_SMILES_LENGTH + 1)])
def test_overlong_smiles_are_refused_before_rdkit_reads_them(smiles):
    start = time.perf_counter()
    result = standardize(smiles)
    assert time.perf_counter() - start < 0.1
    assert result.error == f"SMILES too long: {len(smiles)} characters (limit {MAX_SMILES_LENGTH})"


@pytest.mark.parametrize(
    "smiles, reason",
    [
        ("[C+16]", "impossible formal charge +16 on C at position 1"),
        ("C[N-5]", "impossible formal charge -5 on N at position 2"),
        ("[C+99999]", "impossible formal charge +99999 on C at position 1"),  # RDKit would keep -97
        ("[H+2]", "impossible formal charge +2 on H at position 1"),
        ("[999C]", "impossible isotope 999C at position 1"),
        ("[65535C]", "impossible isotope 65535C at position 1"),
        ("[65548C]", "impossible isotope 65548C at position 1"),  # RDKit would keep 12
        ("C[3C]", "impossible isotope 3C at position 2"),
    ],
)
def test_physically_impossible_atoms_are_flagged(smiles, reason):
    result = standardize(smiles)
    assert not result.ok and result.error.startswith(reason), result.error


@pytest.mark.parametrize("smiles", ["[13CH4]", "[2H]OC", "[18F]CCO", "C[N+](C)(C)C", "[CH2]C", "OC(=O)C[NH3+]"])
def test_unusual_but_possible_atoms_are_kept(smiles):
    assert standardize(smiles).ok


# --- every ok row reads back, on thousands of damaged SMILES ------------------------------


def mutated(smiles: list[str], count: int, seed: int = 0) -> list[str]:
    """`count` SMILES damaged the ways real files are: characters deleted, inserted or
    swapped, charges added, counter-ions and metals appended."""
    rng = random.Random(seed)
    alphabet = "CNOSPFIclnos()[]=#123456789%+-@/\\.H"
    fragments = [".[Na+]", ".[Pt]", ".[Cl-]", ".[Fe+2]", ".O", ".[K+].[K+]", ".[Cu+2]", ".Cl"]
    out = []
    for _ in range(count):
        text = list(rng.choice(smiles))
        for _ in range(rng.randint(1, 3)):
            where = rng.randrange(len(text) + 1)
            kind = rng.randrange(6)
            if kind == 0 and text:
                del text[min(where, len(text) - 1)]
            elif kind == 1:
                text.insert(where, rng.choice(alphabet))
            elif kind == 2 and len(text) > 1:
                i = min(where, len(text) - 2)
                text[i], text[i + 1] = text[i + 1], text[i]
            elif kind == 3:
                atoms = [i for i, c in enumerate(text) if c in "CNOcno"]
                if atoms:
                    i = rng.choice(atoms)
                    text[i] = f"[{text[i]}{rng.choice(['+', '-', '+2', '-2'])}]"
            else:
                text.append(rng.choice(fragments))
        out.append("".join(text))
    return out


@needs_shared_data
@pytest.mark.slow
def test_no_ok_row_has_a_canonical_smiles_that_does_not_read_back():
    source = pd.read_csv(shared_data_dir() / "moleculenet" / "hiv.csv")["smiles"].tolist()
    damaged = mutated(source, 5000)
    molecules = featurize_smiles(damaged)
    assert len(molecules) == 5000
    ok = [m for m in molecules if m.ok]
    assert 1000 < len(ok) < 5000
    assert all(Chem.MolFromSmiles(m.canonical_smiles) is not None for m in ok)
    assert all(not m.error for m in ok) and all(m.error for m in molecules if not m.ok)
    for m in molecules:
        m.error.encode("utf-8")
        "; ".join(m.changes).encode("utf-8")


# --- through the predict CLI and triage ---------------------------------------------------

CASES = {
    "cisplatin": (CISPLATIN, "error", "metal complex (Pt)", ""),
    "salt": ("[Na+].[Cl-]", "error", "inorganic salt ClNa", ""),
    "ferrocene": (FERROCENE, "error", "metal complex (Fe)", ""),
    "cp_anion": ("[cH-]1cccc1", "error", "does not read back", "neutralized charges"),
    "acetate": (SODIUM_ACETATE, "ok", "", "stripped Na+; neutralized charges"),
    "glycine": (GLYCINE_ZWITTERION, "ok", "", "neutralized charges"),
    "ethanol": ("CCO", "ok", "", ""),
    "cut": (CUT_MID_CHARACTER, "error", "non-ASCII character 'é'", ""),
    "fullwidth": ("ＣCO", "error", "non-ASCII character 'Ｃ'", ""),
}


def check_case_rows(rows: list[dict]) -> None:
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == set(CASES)
    for ident, (_, status, error, changes) in CASES.items():
        row = by_id[ident]
        assert row["status"] == status, (ident, row)
        assert error in row["error"] and (status == "ok") == (row["error"] == "")
        assert row["changes"].startswith(changes) and (changes != "") == (row["changes"] != ""), (ident, row["changes"])
        assert status == "error" or Chem.MolFromSmiles(row["canonical_smiles"]) is not None


@pytest.mark.parametrize("workers", ["0", "2"])
def test_predict_cli_flags_and_records_changes(tmp_path, workers):
    source = tmp_path / "in.csv"
    pd.DataFrame({"name": list(CASES), "smiles": [c[0] for c in CASES.values()]}).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    code = predict_cli.main(["--checkpoint", str(CHECKPOINTS / "graphmem-tox21-scaffold"), "--input", str(source),
                             "--output", str(out), "--id-column", "name", "--tasks", "NR-AR", "--workers", workers, "--chunk-size", "4"])
    assert code == 0
    with open(out, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["row", "id", "smiles", "canonical_smiles", "status", "error", "changes", "NR-AR"]
    check_case_rows(rows)


def test_triage_flags_and_records_changes():
    from molapp.inference.domain import DomainIndex
    from molapp.inference.predictor import Predictor
    from molapp.inference.triage import score

    checkpoint = CHECKPOINTS / "graphmem-tox21-scaffold"
    rows = [InputRow(i, ident, smiles) for i, (ident, (smiles, *_)) in enumerate(CASES.items())]
    table = score(Predictor.load(checkpoint, "cpu"), DomainIndex.load(checkpoint), rows, workers=1)
    assert list(table.columns[:7]) == ["row", "id", "smiles", "canonical_smiles", "status", "error", "changes"]
    check_case_rows(table.fillna("").astype(str).to_dict("records"))
    exported = pd.read_csv(io.StringIO(table.to_csv(index=False)), dtype=str, keep_default_na=False)
    check_case_rows(exported.to_dict("records"))
