"""Reading and standardizing molecules: every row back, bad ones flagged with a reason."""

from __future__ import annotations

import pytest
from rdkit import Chem

from molapp.chem.io import read_csv, read_molecules, read_sdf, read_smiles_file
from molapp.chem.standardize import standardize
from molapp.data.featurize import featurize_smiles

from .conftest import FIXTURES


@pytest.mark.parametrize(
    "smiles, reason",
    [
        ("", "empty SMILES"),
        ("   ", "empty SMILES"),
        ("C1CC", "unparseable SMILES"),
        ("XYZ", "unparseable SMILES: unknown atom 'X' at position 1"),
        ("CC(C)(C)(C)(C)C", "valence error"),
        ("c1cccc1", "aromaticity error"),
        ("[H][H]", "no heavy atoms"),
        ("C" * 251, "too large: 251 heavy atoms"),
        ("C[U]", "unsupported element U"),
        ("*CC", "unsupported element *"),
    ],
)
def test_bad_inputs_are_flagged_with_reason(smiles, reason):
    result = standardize(smiles)
    assert not result.ok
    assert result.error.startswith(reason)


def test_salts_stripped_and_charges_neutralized_are_recorded():
    salt = standardize("CC(=O)[O-].[Na+]")
    assert salt.canonical_smiles == "CC(=O)O"
    assert salt.changes[0] == "stripped Na+"
    assert salt.changes[1].startswith("neutralized charges")
    hcl = standardize("CCN.Cl")
    assert hcl.canonical_smiles == "CCN" and hcl.changes == ["stripped HCl"]
    # a nitro group keeps its (sound) charge separation; nothing recorded
    nitro = standardize("C[N+](=O)[O-]")
    assert nitro.ok and nitro.changes == []
    # quaternary ammonium cannot be neutralized: it stays charged
    assert "[N+]" in standardize("C[N+](C)(C)C").canonical_smiles


def test_standardization_is_canonical():
    assert standardize("OCC").canonical_smiles == standardize("C(O)C").canonical_smiles == "CCO"


def test_every_row_comes_back_in_order():
    rows = list(read_smiles_file(FIXTURES / "bad_rows.smi"))
    molecules = featurize_smiles([r.smiles for r in rows])
    assert [r.row for r in rows] == list(range(9))
    assert [r.id for r in rows][:2] == ["ethanol", "unclosed_ring"]
    status = ["ok" if m.ok else m.error.split(":")[0] for m in molecules]
    assert status == [
        "ok", "unparseable SMILES", "empty SMILES", "valence error", "aromaticity error (cannot kekulize)",
        "inorganic salt ClNa, no organic fragment", "unsupported element U", "ok", "ok",
    ]
    assert molecules[7].canonical_smiles == "CC(=O)O"


def test_csv_reader_uses_named_columns(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("name,structure\nA,CCO\nB,\nC,c1ccccc1\n")
    rows = list(read_csv(path, smiles_column="structure", id_column="name"))
    assert [(r.row, r.id, r.smiles) for r in rows] == [(0, "A", "CCO"), (1, "B", ""), (2, "C", "c1ccccc1")]
    with pytest.raises(ValueError, match="no column named 'smiles'"):
        list(read_csv(path))


def test_sdf_reader_flags_unreadable_record():
    rows = list(read_sdf(FIXTURES / "three_with_bad.sdf", id_property="CMPD"))
    assert [r.id for r in rows] == ["id-ethanol", "broken", "id-phenol"]  # the title line names a broken record
    assert rows[1].error.startswith("SDF record 2: not a molblock RDKit can read") and rows[0].smiles == "CCO"


def test_reader_dispatch(tmp_path):
    assert [r.smiles for r in read_molecules(FIXTURES / "bad_rows.smi")][0] == "CCO"
    assert [r.id for r in read_molecules(FIXTURES / "three_with_bad.sdf")] == ["ethanol", "broken", "phenol"]
    with pytest.raises(FileNotFoundError):
        read_molecules(tmp_path / "missing.smi")


def test_a_featurizer_failure_flags_only_its_row(monkeypatch):
    """If RDKit raises while featurizing one molecule of a chunk, that row is flagged with
    the reason and every other row keeps its graph."""
    from molapp.data import featurize as featurize_module

    real = featurize_module._featurizer(None)

    class FailsOnSulfur:
        def _check(self, mol):
            if any(atom.GetSymbol() == "S" for atom in mol.GetAtoms()):
                raise RuntimeError("simulated RDKit failure")

        def many(self, mols, smiles):
            for mol in mols:
                self._check(mol)
            return real.many(mols, smiles)

        def __call__(self, mol, smiles=None):
            self._check(mol)
            return real(mol, smiles)

    failing = FailsOnSulfur()
    monkeypatch.setattr(featurize_module, "_featurizer", lambda descriptors: failing)
    molecules = featurize_module.featurize_smiles(["CCO", "CCS", "", "c1ccccc1"])
    assert [m.ok for m in molecules] == [True, False, False, True]
    assert molecules[1].error == "could not featurize: simulated RDKit failure" and molecules[1].canonical_smiles == "CCS"
    assert molecules[2].error and "could not featurize" not in molecules[2].error
    assert molecules[3].graph.num_atoms == 6


def _molblock(smiles: str, name: str, v3000: bool = False) -> str:
    mol = Chem.MolFromSmiles(smiles, sanitize=False)
    mol.SetProp("_Name", name)
    return Chem.MolToV3KMolBlock(mol, kekulize=False) if v3000 else Chem.MolToMolBlock(mol, kekulize=False)


def test_every_sdf_record_comes_back_at_its_position_with_its_reason(tmp_path):
    """Broken records (no `M  END`, empty, a malformed property block, garbage, bad
    chemistry) never swallow the next record: one row per record, numbered by position."""
    good = {name: _molblock(smiles, name) for name, smiles in
            [("ethanol", "CCO"), ("phenol", "Oc1ccccc1"), ("benzene", "c1ccccc1"), ("acetone", "CC(C)=O"), ("urea", "NC(N)=O")]}
    no_end = _molblock("CCN", "no_end").replace("M  END\n", "")
    malformed_properties = _molblock("CCCl", "bad_props") + ">  CMPD without brackets\nx\ngarbage\n"
    records = [
        good["ethanol"] + ">  <CMPD>\nid-ethanol\n\n", no_end, good["phenol"], "", good["benzene"], malformed_properties,
        good["acetone"], "garbage\n  x\n\nnot a counts line\nM  END\n", good["urea"],
        _molblock("CN(C)(C)(C)C", "pentavalent"), _molblock("c1cccc1", "kekule"), _molblock("CC(=O)O", "acetic_v3000", v3000=True),
    ]
    path = tmp_path / "mixed.sdf"
    path.write_text("".join(r + "$$$$\n" for r in records))
    rows = list(read_sdf(path, id_property="CMPD"))
    assert [r.row for r in rows] == list(range(len(records)))
    assert [r.id for r in rows] == ["id-ethanol", "no_end", "phenol", "4", "benzene", "bad_props", "acetone", "garbage", "urea",
                                   "pentavalent", "kekule", "acetic_v3000"]
    ok = {r.id: r.smiles for r in rows if not r.error}
    assert ok == {"id-ethanol": "CCO", "phenol": "Oc1ccccc1", "benzene": "c1ccccc1", "bad_props": "CCCl", "acetone": "CC(C)=O",
                  "urea": "NC(N)=O", "acetic_v3000": "CC(=O)O"}
    errors = {r.id: r.error for r in rows if r.error}
    assert errors["no_end"] == "SDF record 2: no 'M  END' line"
    assert errors["4"] == "SDF record 4: empty record"
    assert errors["garbage"].startswith("SDF record 8: not a molblock RDKit can read")
    assert errors["pentavalent"].startswith("SDF record 10: valence error: Explicit valence for atom # 1 N")
    assert errors["kekule"].startswith("SDF record 11: aromaticity error (cannot kekulize)")


def test_smiles_file_rows_end_only_at_newlines(tmp_path):
    """A lone carriage return inside a line does not start a row; \\r\\n does end one."""
    path = tmp_path / "in.smi"
    path.write_bytes(b"CCO ethanol\r\nCCN amine\rnote\nc1ccccc1 benzene\n")
    rows = list(read_smiles_file(path))
    assert [(r.row, r.smiles) for r in rows] == [(0, "CCO"), (1, "CCN"), (2, "c1ccccc1")]
    assert [r.id for r in rows] == ["ethanol", "amine\rnote", "benzene"]


def test_a_blank_csv_line_is_an_empty_row(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("smiles,id\nCCO,a\n\nc1ccccc1,c\n")
    rows = list(read_csv(path, id_column="id"))
    assert [(r.row, r.smiles) for r in rows] == [(0, "CCO"), (1, ""), (2, "c1ccccc1")]
    assert featurize_smiles([rows[1].smiles])[0].error == "empty SMILES"


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"), (b"\x00\x01\x02binary\x00", "binary"), (b"CCO ethanol\n\xff\xfe bad\n", "not UTF-8"),
])
def test_unreadable_input_files_are_refused_with_a_reason(tmp_path, content, message):
    for suffix in (".smi", ".csv", ".sdf"):
        path = tmp_path / f"in{suffix}"
        path.write_bytes(content if suffix != ".csv" else b"smiles\n" + content if content else b"")
        with pytest.raises(ValueError, match=message) as raised:
            list(read_molecules(path))
        assert str(path) in str(raised.value)
