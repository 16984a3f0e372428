"""The embedding map: t-SNE layout saved without pickle, new molecules placed where their
neighbours are, outcomes per molecule, and the Map page (AppTest) with the user's molecule."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from molapp.app import state
from molapp.explain.embedding_map import MAP_DIMENSIONS, EmbeddingMap, fit_coordinates, outcome, reduce_for_map
from molapp.models.checkpoint import read_card

from .conftest import CHECKPOINTS, ROOT


def two_blobs(n: int, rng: np.random.Generator, width: int = 16) -> np.ndarray:
    centres = np.zeros((2, width), np.float32)
    centres[1, 0] = 12.0
    return np.concatenate([centres[0] + rng.normal(size=(n, width)), centres[1] + rng.normal(size=(n, width))]).astype(np.float32)


@pytest.fixture(scope="module")
def blob_map(tmp_path_factory) -> EmbeddingMap:
    rng = np.random.default_rng(0)
    embeddings = two_blobs(150, rng)
    coordinates = fit_coordinates(embeddings, perplexity=20, workers=1)
    n = len(embeddings)
    reference = EmbeddingMap(coordinates, embeddings, np.zeros((n, 1), np.float32), np.zeros((n, 1), np.float32), np.zeros(n, np.int64),
                             [f"m{i}" for i in range(n)], ["C"] * n, ["task"], None, "blobs", perplexity=20)
    directory = tmp_path_factory.mktemp("map")
    reference.save(directory)
    return EmbeddingMap.load(directory)


def test_map_round_trips_without_pickle(blob_map, tmp_path):
    blob_map.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.json", "map.safetensors"]
    assert json.loads((tmp_path / "map.json").read_text())["ids"][:2] == ["m0", "m1"]
    assert blob_map.coordinates.shape == (300, 2) and blob_map.embeddings.shape == (300, 16)


def test_new_molecules_land_among_their_neighbours(blob_map):
    rng = np.random.default_rng(1)
    new = two_blobs(10, rng)  # 10 from each blob
    placed = blob_map.place(new)
    centre_a = blob_map.coordinates[:150].mean(0)
    centre_b = blob_map.coordinates[150:].mean(0)
    nearer_a = np.linalg.norm(placed - centre_a, axis=1) < np.linalg.norm(placed - centre_b, axis=1)
    assert nearer_a[:10].all() and not nearer_a[10:].any()
    assert blob_map.place(np.zeros((0, 16), np.float32)).shape == (0, 2)


def test_wide_embeddings_are_mapped_through_a_stored_pca(tmp_path):
    rng = np.random.default_rng(2)
    wide = two_blobs(100, rng, width=3 * MAP_DIMENSIONS)
    reduced, projection = reduce_for_map(wide)
    assert reduced.shape == (200, MAP_DIMENSIONS) and projection is not None
    assert reduce_for_map(wide[:, :MAP_DIMENSIONS])[1] is None  # narrow enough: kept as it is
    n = len(wide)
    EmbeddingMap(fit_coordinates(reduced, perplexity=20, workers=1), reduced, np.zeros((n, 1)), np.zeros((n, 1)), np.zeros(n, np.int64),
                 [f"m{i}" for i in range(n)], ["C"] * n, ["task"], None, "blobs", perplexity=20, projection=projection).save(tmp_path)
    loaded = EmbeddingMap.load(tmp_path)
    np.testing.assert_allclose(loaded.projection(wide[:5]), projection(wide[:5]), rtol=1e-6)
    placed = loaded.place(two_blobs(5, rng, width=3 * MAP_DIMENSIONS))  # the model's own, wide embeddings
    centre_a, centre_b = loaded.coordinates[:100].mean(0), loaded.coordinates[100:].mean(0)
    nearer_a = np.linalg.norm(placed - centre_a, axis=1) < np.linalg.norm(placed - centre_b, axis=1)
    assert nearer_a[:5].all() and not nearer_a[5:].any()


def test_outcomes():
    labels = np.array([1, 1, 0, 0, np.nan])
    probabilities = np.array([0.9, 0.2, 0.7, 0.1, 0.8])
    assert outcome(labels, probabilities).tolist() == ["TP", "FN", "FP", "TN", ""]


def test_shipped_maps_cover_their_datasets():
    for directory in [p.parent for p in CHECKPOINTS.glob("*/map.json")]:
        reference = EmbeddingMap.load(directory)
        card = read_card(directory)
        assert reference.tasks == card.tasks and len(reference.ids) == len(reference.coordinates) == len(reference.smiles)
        # a deployment panel (split "all") trained on every row: all its molecules are training molecules
        assert set(np.unique(reference.split)) == ({0} if card.is_deployment else {0, 1, 2})
        assert np.isfinite(reference.coordinates).all()


@pytest.mark.slow
def test_map_page_places_the_predicted_molecule():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    panel = at.sidebar.selectbox(key=state.PANEL)
    panel.set_value(next(o for o in panel.options if o.startswith("ESOL") and "(MemGNN," in o)).run()
    at.text_input(key=state.SMILES_TEXT).input("CCCCCCCCO").run()
    at.switch_page("pages/map.py").run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    mine = [trace for trace in spec["data"] if trace.get("name") == "your molecules"]
    assert len(mine) == 1 and mine[0]["customdata"][0][2] == "CCCCCCCCO"
    assert sum(len(trace["customdata"]) for trace in spec["data"] if trace.get("name") != "your molecules") == 1128  # all of ESOL
    at.selectbox(key=state.MAP_COLOUR).set_value("split").run()
    names = {trace.get("name") for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}
    assert {"train", "valid", "test", "your molecules"} <= names and not at.exception


@pytest.mark.slow
def test_two_models_side_by_side_on_the_same_molecules():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    panel = at.sidebar.selectbox(key=state.PANEL)
    panel.set_value(next(o for o in panel.options if o == "Tox21 — 12 toxicity assays (GraphMem + descriptors, scaffold split)")).run()
    at.switch_page("pages/map.py").run()
    compare = at.selectbox(key=state.MAP_COMPARE)
    compare.set_value(next(o for o in compare.options if "(MemGNN," in o)).run()
    assert not at.exception
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 2
    counts = [sum(len(t["customdata"]) for t in spec["data"] if t.get("name") != "your molecules") for spec in charts]
    assert counts[0] == counts[1] == 7820  # the same reference molecules under both models


@pytest.mark.slow
def test_joint_panel_map_colours_by_source_dataset():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    panel = at.sidebar.selectbox(key=state.PANEL)
    panel.set_value(next(o for o in panel.options if o.startswith("Joint panel"))).run()
    at.switch_page("pages/map.py").run()
    assert "dataset" in at.selectbox(key=state.MAP_COLOUR).options
    at.selectbox(key=state.MAP_COLOUR).set_value("dataset").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    sizes = {t["name"]: len(t["customdata"]) for t in spec["data"] if t.get("name") != "your molecules"}
    assert sizes == dict.fromkeys(["tox21", "hiv", "bace", "bbbp", "clintox", "sider"], 1000)  # --max-molecules 6000, shared equally
    # a single-dataset panel has no such colouring; the page falls back to its default
    panel = at.sidebar.selectbox(key=state.PANEL)
    panel.set_value(next(o for o in panel.options if o.startswith("ESOL") and "(MemGNN," in o)).run()
    assert not at.exception and "dataset" not in at.selectbox(key=state.MAP_COLOUR).options


def test_a_selection_says_not_measured_as_hovering_does():
    from molapp.app.map_views import selected_legends, selected_table

    labels = np.array([[np.nan], [1.0]], np.float32)
    reference = EmbeddingMap(np.zeros((2, 2), np.float32), np.zeros((2, 4), np.float32), labels, np.array([[0.2], [0.9]], np.float32),
                             np.zeros(2, np.int64), ["a", "b"], ["C", "CC"], ["task"], None, "tiny")
    table = selected_table(reference, [0, 1], "task")
    assert table["measured task"].tolist() == ["not measured", "1.00"]
    assert selected_legends(reference, [0, 1], "task") == ["a · not measured · predicted 0.20", "b · measured 1.00 · predicted 0.90"]
