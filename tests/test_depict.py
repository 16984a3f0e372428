"""3D conformers are bounded in time; the 3Dmol.js fallback is pinned by its hash."""

from __future__ import annotations

import time

import pytest
from rdkit import Chem

from molapp.explain.depict import conformer


def test_a_conformer_keeps_heavy_atoms_first():
    made = conformer("CC(=O)Oc1ccccc1C(=O)O")
    mol = Chem.MolFromMolBlock(made.molblock, removeHs=False)
    assert not made.skipped and [a.GetSymbol() for a in mol.GetAtoms()][:4] == ["C", "C", "O", "O"]
    assert mol.GetConformer().Is3D()


@pytest.mark.slow  # waits out the time limit
def test_a_conformer_that_takes_too_long_is_skipped_in_time():
    """This macrocycle of 62 stereocentres took 535 s to embed; RDKit's own timeout is only
    checked between stages (one attempt ran 30 s with a 3 s timeout)."""
    start = time.monotonic()
    made = conformer("O1" + "C[C@H](C)O" * 62 + "C1", seconds=2)
    assert time.monotonic() - start < 15  # the limit, plus starting the worker on a busy machine
    assert made.molblock == "" and made.skipped == "3D view skipped: took longer than 2 s"


def test_the_page_says_when_the_3d_view_was_skipped(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from molapp.explain.depict import Conformer

    from .conftest import ROOT

    monkeypatch.setattr("molapp.app.views.conformer", lambda smiles: Conformer("", "3D view skipped: took longer than 5 s"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    assert not at.exception and "3D view skipped: took longer than 5 s." in [i.value for i in at.info]


def test_the_3dmol_script_is_pinned_by_its_hash():
    import base64
    import hashlib

    from molapp.explain.depict import THREE_DMOL_CDN, THREE_DMOL_INTEGRITY, viewer_html

    from .conftest import ROOT

    html = viewer_html(conformer("CCO").molblock, [], THREE_DMOL_CDN)
    tag = f'<script src="{THREE_DMOL_CDN}" integrity="{THREE_DMOL_INTEGRITY}" crossorigin="anonymous"></script>'
    assert html.index(tag) < html.index("$3Dmol.createViewer")  # loaded (and checked) before py3Dmol would load it unchecked
    local = ROOT / "static" / "3Dmol-min.js"  # the npm package's file, as `make` installs it
    if local.exists():
        assert THREE_DMOL_INTEGRITY == "sha384-" + base64.b64encode(hashlib.sha384(local.read_bytes()).digest()).decode()
