"""Triage: the scoring table keeps every row, the page uploads, scores, filters and exports
(AppTest), and SDF export carries the predictions."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch
from rdkit import Chem
from streamlit.testing.v1 import AppTest

from molapp.app import state
from molapp.app.triage_views import csv_text
from molapp.chem.druglikeness import PROPERTIES, drug_likeness
from molapp.chem.io import FIXED_COLUMNS, read_csv, write_sdf
from molapp.inference.domain import DomainIndex
from molapp.inference.predictor import Predictor
from molapp.inference.triage import DOMAIN_COLUMN, score

from .conftest import CHECKPOINTS, FIXTURES, ROOT

CSV = FIXTURES / "triage.csv"
BAD = {"broken": "unclosed ring", "empty": "empty SMILES", "uranium": "unsupported element U"}


def test_drug_likeness_of_known_molecules():
    aspirin = drug_likeness(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
    assert aspirin["MW"] == pytest.approx(180.16, abs=0.01) and aspirin["HBD"] == 1 and aspirin["Lipinski"] and aspirin["Veber"]
    caffeic = drug_likeness(Chem.MolFromSmiles("O=C(C=Cc1ccc(O)c(O)c1)O"))
    assert "catechol" in caffeic["PAINS"] and "Michael_acceptor" in caffeic["Brenk"]
    big = drug_likeness(Chem.MolFromSmiles("CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC(=O)O" + "c1ccccc1" * 4))
    assert not big["Lipinski"] and not big["Veber"]


# Known hits: PAINS ene_rhod, quinone, azo, catechol, anil_di_alk; Brenk Michael acceptor, thiol.
ALERT_HITS = [
    "O=C1NC(=S)SC1=Cc1ccccc1", "O=C1C=CC(=O)C=C1", "c1ccc(N=Nc2ccccc2)cc1", "Oc1ccccc1O",
    "CN(C)c1ccc(C)cc1", "C=CC(=O)OC", "SCCc1ccccc1", "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
]


@pytest.mark.slow
def test_screened_alerts_and_qed_are_rdkits():
    """The pattern-fingerprint screen only skips matches that cannot succeed: PAINS, Brenk and
    QED come out exactly as RDKit's FilterCatalog.GetMatches and QED.qed give them."""
    from rdkit.Chem import QED
    from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

    def reference_alerts(mol, name):
        params = FilterCatalogParams()
        params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, name))
        return "; ".join(dict.fromkeys(m.GetDescription() for m in FilterCatalog(params).GetMatches(mol)))

    smiles = [*ALERT_HITS, *(line.split()[0] for line in (FIXTURES / "tiny_molecules.smi").read_text().splitlines() if line.strip())]
    for name in ("bbbp", "esol"):
        smiles += pd.read_csv(FIXTURES / "ladder" / f"{name}.csv")["smiles"].tolist()
    mols = [m for m in map(Chem.MolFromSmiles, smiles) if m is not None]
    assert len(mols) > 100
    flagged = 0
    for mol in mols:
        ours = drug_likeness(mol)
        assert ours["PAINS"] == reference_alerts(mol, "PAINS") and ours["Brenk"] == reference_alerts(mol, "BRENK"), Chem.MolToSmiles(mol)
        assert ours["QED"] == round(QED.qed(mol), 3)
        flagged += bool(ours["PAINS"]) + bool(ours["Brenk"])
    assert flagged >= len(ALERT_HITS)


def test_every_alert_pattern_is_read_for_the_screen():
    """If RDKit's catalog serialization changed, the screen would silently stop screening."""
    from molapp.chem.druglikeness import _alerts

    alerts = _alerts()
    for k, name in enumerate(alerts.names):  # PAINS, Brenk, QED
        in_set = np.array(alerts.set_index) == k
        assert in_set.sum() > 100 and (alerts.screen.query_bits[in_set] != 0).any(axis=1).all(), name


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])  # 2: a worker pool's start-up
def test_score_keeps_every_row_in_order(workers):
    checkpoint = CHECKPOINTS / "graphmem-tox21-scaffold"
    predictor = Predictor.load(checkpoint, "cpu")
    rows = list(read_csv(CSV, id_column="compound_id"))
    seen = []
    table = score(predictor, DomainIndex.load(checkpoint), rows, workers=workers, chunk_size=3, progress=lambda d, t, s: seen.append((d, t)))
    assert list(table.columns) == [*FIXED_COLUMNS, *predictor.tasks, DOMAIN_COLUMN, *PROPERTIES]
    assert table["id"].tolist() == [r.id for r in rows] and table["row"].tolist() == list(range(10))
    errors = table.set_index("id")["error"]
    for ident, reason in BAD.items():
        assert reason in errors[ident]
    ok = table["status"] == "ok"
    assert ok.sum() == 7 and table.loc[ok, predictor.tasks].notna().all().all() and table.loc[~ok, predictor.tasks].isna().all().all()
    assert table.loc[ok, DOMAIN_COLUMN].between(0, 1).all()
    assert seen[-1] == (10, 10) and len(seen) == 4
    direct = predictor.predict(table.loc[ok, "smiles"].tolist()).values
    assert np.allclose(table.loc[ok, predictor.tasks].to_numpy(dtype=float), direct, atol=1e-5)


def test_sdf_export_has_every_row_and_the_predictions():
    frame = pd.DataFrame({"id": ["a", "b"], "canonical_smiles": ["CCO", ""], "status": ["ok", "error"], "NR-AR": [0.25, np.nan]})
    records = list(Chem.ForwardSDMolSupplier(io.BytesIO(write_sdf(frame).encode()), sanitize=False))
    assert [m.GetProp("_Name") for m in records] == ["a", "b"]
    assert records[0].GetProp("NR-AR") == "0.25" and records[0].GetNumAtoms() == 3
    assert records[1].GetProp("status") == "error" and records[1].GetNumAtoms() == 0


@pytest.fixture()
def triage_app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/triage.py").run()
    at.file_uploader[0].set_value(("candidates.csv", CSV.read_bytes(), "text/csv")).run()
    return at


def test_upload_score_filter_and_export(triage_app):
    at = triage_app
    assert not at.exception
    assert at.selectbox(key=state.TRIAGE_SMILES_COLUMN).value == "smiles"  # columns guessed from their names
    assert at.selectbox(key=state.TRIAGE_ID_COLUMN).value == "compound_id"
    at.button[0].click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 10 and set(BAD) <= set(table["id"])  # every row, bad ones flagged
    assert (table.set_index("id").loc[list(BAD), "status"] == "error").all()
    # a filter changes the rows on screen, without re-scoring
    scored = at.session_state[state.TRIAGE_RESULT]["table"]
    at.checkbox(key="molapp.triage.filter.pains").check().run()
    filtered = at.dataframe[0].value
    assert at.session_state[state.TRIAGE_RESULT]["table"] is scored
    assert "catechol_acid" not in set(filtered["id"]) and len(filtered) < len(table)
    assert all(filtered["status"] == "ok")
    # the exported rows are the filtered rows, with their predictions
    view = at.session_state[state.TRIAGE_VIEW]
    assert sorted(view["id"]) == sorted(filtered["id"])
    exported = pd.read_csv(io.StringIO(view.to_csv(index=False)))
    assert "NR-AR" in exported and exported["NR-AR"].notna().all()
    sdf = list(Chem.ForwardSDMolSupplier(io.BytesIO(write_sdf(view).encode())))
    assert [m.GetProp("_Name") for m in sdf] == view["id"].tolist() and all(m.HasProp("SR-p53") for m in sdf)


def test_exports_are_bytes_made_once_whose_download_ids_survive_reruns(triage_app):
    """Under load, a deferred (callable) download was dropped by other sessions' runs and the
    click failed (issue 27's load test). The exports are bytes, made once per row selection,
    whose content-derived id is the same on every rerun; the SDF is made when asked for."""
    at = triage_app
    at.button[0].click().run()
    at.radio(key="molapp.triage.export_rows").set_value("All rows").run()
    table = at.session_state[state.TRIAGE_RESULT]["table"]
    files = at.session_state[state.TRIAGE_EXPORTS]
    assert files["csv"].decode("utf-8") == csv_text(table) and files["sdf"] is None

    def download_buttons():
        return {b.proto.label: b.proto for b in at.get("download_button")}

    first = download_buttons()
    csv_button = first[f"CSV ({len(table):,} rows)"]
    assert not csv_button.deferred_file_id and csv_button.url
    at.run()  # a rerun: same rows, so the same bytes object and the same download id
    assert at.session_state[state.TRIAGE_EXPORTS] is not None
    assert at.session_state[state.TRIAGE_EXPORTS]["csv"] is files["csv"]
    assert download_buttons()[csv_button.label].url == csv_button.url
    sdf_label = f"SDF ({len(table):,} records, predictions as SD properties)"
    assert sdf_label not in download_buttons()
    next(b for b in at.button if b.label.startswith("Prepare SDF")).click().run()
    assert not at.exception
    sdf_button = download_buttons()[sdf_label]
    assert not sdf_button.deferred_file_id and sdf_button.url
    records = list(Chem.ForwardSDMolSupplier(io.BytesIO(at.session_state[state.TRIAGE_EXPORTS]["sdf"]), sanitize=False))
    assert [m.GetProp("_Name") for m in records] == table["id"].astype(str).tolist()
    # a different selection makes new exports
    at.radio(key="molapp.triage.export_rows").set_value("Filtered rows").run()
    at.checkbox(key="molapp.triage.filter.pains").check().run()
    assert at.session_state[state.TRIAGE_EXPORTS]["key"] != files["key"]


def test_rank_by_a_task(triage_app):
    at = triage_app
    at.button[0].click().run()
    at.selectbox(key="molapp.triage.rank").set_value("NR-AR").run()
    ranked = at.dataframe[0].value
    probabilities = ranked["NR-AR"].dropna().to_numpy()
    assert (np.diff(probabilities) <= 0).all() and not at.exception


def test_more_than_the_limit_points_to_the_cli():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/triage.py").run()
    at.radio(key=state.TRIAGE_SOURCE).set_value("Paste SMILES").run()
    at.text_area(key=state.TRIAGE_PASTE).input("CCO\n" * 100_001).run()
    assert not at.exception and len(at.button) == 0
    assert "more than 100,000 molecules" in at.error[0].value and "molapp.predict" in at.error[0].value


def test_a_molecule_whose_descriptors_fail_keeps_its_row(monkeypatch):
    from molapp.chem.io import InputRow
    from molapp.inference import triage

    def fails_on_sulfur(mol):
        if any(atom.GetSymbol() == "S" for atom in mol.GetAtoms()):
            raise RuntimeError("simulated RDKit descriptor failure")
        return drug_likeness(mol)

    monkeypatch.setattr(triage, "drug_likeness", fails_on_sulfur)
    chunk = triage.prepare([InputRow(0, "thiol", "CCS"), InputRow(1, "ethanol", "CCO")])
    assert [m.ok for m in chunk.molecules] == [True, True]
    assert chunk.properties[0] is None and chunk.properties[1]["HBD"] == 1


def test_an_ensemble_panel_ranks_by_its_members_disagreement():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    panel = at.sidebar.selectbox(key=state.PANEL)
    panel.set_value(next(o for o in panel.options if o.startswith("ESOL") and "MemGNN ensemble of 3" in o and "random split" in o)).run()
    at.switch_page("pages/triage.py").run()
    at.file_uploader[0].set_value(("candidates.csv", CSV.read_bytes(), "text/csv")).run()
    at.button[0].click().run()
    column = "measured log solubility in mols per litre (members' SD)"
    at.selectbox(key="molapp.triage.rank").set_value(column).run()
    ranked = at.dataframe[0].value
    spread = ranked[column].dropna().to_numpy()
    assert not at.exception and len(spread) == 7 and (np.diff(spread) <= 0).all() and (spread > 0).all()


@pytest.mark.slow
def test_scoring_leaves_the_process_torch_threads_alone_and_never_forks_the_server(monkeypatch):
    """Triage runs inside a multi-threaded server: its workers start from a clean process
    (never fork), and it sets no process-wide torch threads another session would inherit."""
    from molapp.inference import parallel

    checkpoint = CHECKPOINTS / "graphmem-tox21-scaffold"
    predictor = Predictor.load(checkpoint, "cpu")
    methods, threads = [], []
    real = parallel.mp.get_context
    monkeypatch.setattr(parallel.mp, "get_context", lambda method: methods.append(method) or real(method))
    before = torch.get_num_threads()
    table = score(predictor, DomainIndex.load(checkpoint), list(read_csv(CSV)), workers=2, chunk_size=4,
                  progress=lambda *_: threads.append(torch.get_num_threads()))
    assert len(table) == 10 and methods and "fork" not in methods
    assert set(threads) == {before}


def test_the_csv_export_neutralizes_formulas():
    from molapp.app.triage_views import csv_text

    frame = pd.DataFrame({"id": ["=HYPERLINK(\"http://x\")", "@SUM(A1)", "ok"], "smiles": ["CCO", "-C", "CC"], "value": [-1.23, 0.5, 2.0]})
    written = pd.read_csv(io.StringIO(csv_text(frame)), dtype=str)
    assert written["id"].tolist() == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "ok"]
    assert written["smiles"].tolist() == ["CCO", "'-C", "CC"] and written["value"].tolist() == ["-1.23", "0.5", "2.0"]


def test_an_upload_name_is_not_read_as_markdown():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/triage.py").run()
    at.file_uploader[0].set_value(("**bold** [link](http://evil.example).csv", b"", "text/csv")).run()
    assert not at.exception
    message = at.error[0].value
    assert "\\*\\*bold\\*\\*" in message and "\\[link\\]" in message


def test_an_upload_is_read_once_and_stops_at_the_limit(monkeypatch):
    from molapp.app import triage_views

    reads = []
    real = triage_views.read_csv
    monkeypatch.setattr(triage_views, "read_csv", lambda *a, **k: reads.append(1) or real(*a, **k))
    monkeypatch.setattr(triage_views, "TRIAGE_LIMIT", 6)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/triage.py").run()
    at.file_uploader[0].set_value(("candidates.csv", CSV.read_bytes(), "text/csv")).run()
    assert not at.exception and len(at.button) == 0
    assert "more than 6 molecules" in at.error[0].value and "molapp.predict" in at.error[0].value
    at.run()
    at.run()
    assert len(reads) == 1  # parsed once for this upload, not on every rerun


def test_an_sdf_upload_keeps_every_record_at_its_position():
    records = [Chem.MolToMolBlock(Chem.MolFromSmiles(s)) for s in ("CCO", "c1ccccc1")]
    data = (records[0] + "$$$$\n" + "garbage\n\n\nM  END\n$$$$\n" + records[1] + "$$$$\n").encode()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/triage.py").run()
    at.radio(key=state.TRIAGE_SOURCE).set_value("Upload SDF").run()
    at.file_uploader[0].set_value(("three.sdf", data, "chemical/x-mdl-sdfile")).run()
    at.button[0].click().run()
    table = at.session_state[state.TRIAGE_RESULT]["table"]
    assert not at.exception and table["row"].tolist() == [0, 1, 2]
    assert table["status"].tolist() == ["ok", "error", "ok"] and table["error"][1].startswith("SDF record 2")


def test_scoring_waits_for_a_free_slot_and_says_so(monkeypatch):
    """The server runs at most SCORING_SLOTS scoring jobs at once; the next one waits,
    with a message on its page, and starts when a slot frees."""
    import threading

    from molapp.app import resources

    shown = []

    class Notice:
        def empty(self) -> None:
            shown.append("cleared")

    monkeypatch.setattr(resources.st, "info", lambda text, **_: shown.append(text) or Notice())
    for _ in range(resources.SCORING_SLOTS):
        assert resources._scoring.acquire(blocking=False)
    entered = threading.Event()

    def job() -> None:
        with resources.scoring_slot():
            entered.set()

    waiting = threading.Thread(target=job)
    waiting.start()
    try:
        assert not entered.wait(0.5) and "Waiting for a free slot" in shown[0]
    finally:
        for _ in range(resources.SCORING_SLOTS):
            resources._scoring.release()
    waiting.join(5)
    assert entered.is_set() and shown[-1] == "cleared"
