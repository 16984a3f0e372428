"""No SMILES, however odd, costs more than its own row, and none is read as something
else (issue 27)."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from molapp.chem.standardize import MAX_SMILES_LENGTH, standardize
from molapp.data.featurize import featurize_smiles

CUT_MID_CHARACTER = "C(" + "é" * 20  # RDKit's log cuts its quote of this inside an 'é'


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
        ("C(=)C", "unparseable SMILES"),
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
