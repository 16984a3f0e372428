"""The Streamlit app without a browser (streamlit.testing AppTest), on the checkpoints
the app finds (the shipped ones, or $MOLAPP_CHECKPOINTS)."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from molapp.app import state

from .conftest import ROOT

CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"


@pytest.fixture()
def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()


def results_frame(at: AppTest):
    return at.dataframe[0].value


def test_predict_page_renders_default_molecule(app):
    assert not app.exception
    headers = [s.value for s in app.subheader]
    assert headers[:1] == ["Bisphenol A"] and "Predictions" in headers and "Why: where GraphMem looked" in headers
    table = results_frame(app)
    tasks = app.sidebar.multiselect[0].value
    assert list(table["task"]) == tasks and len(tasks) >= 1
    assert table["probability"].between(0, 1).all()


@pytest.mark.slow
def test_smiles_gives_predictions_and_task_choice_changes_outputs(app):
    app.text_input(key=state.SMILES_TEXT).input(CAFFEINE).run()
    assert not app.exception and not app.error
    everything = results_frame(app).set_index("task")["probability"]
    chosen = list(everything.index[-2:])
    app.sidebar.multiselect[0].set_value(chosen).run()
    subset = results_frame(app)
    assert list(subset["task"]) == chosen
    # the same molecule queried with fewer task queries: the same probabilities for those tasks
    assert np.allclose(subset["probability"].to_numpy(), everything[chosen].to_numpy(), atol=1e-5)
    assert [s.value for s in app.selectbox if s.key == state.ATTENTION_TASK][0] in chosen


def test_bad_smiles_gives_message_and_no_exception(app):
    for bad, reason in [("C1CC", "unclosed ring"), ("", "empty SMILES"), ("C[U]", "unsupported element U"), ("C" * 260, "too large")]:
        app.text_input(key=state.SMILES_TEXT).input(bad).run()
        assert not app.exception
        assert len(app.error) == 1 and reason in app.error[0].value
        assert "Predictions" not in [s.value for s in app.subheader]


def test_metal_complexes_and_unreadable_forms_give_a_message_not_an_exception(app):
    """Ferrocene was neutralized to c1cccc1, which RDKit cannot read back: a red
    AttributeError. User text in the message is shown as written, never as markdown."""
    for bad, reason in [("[CH-]1C=CC=C1.[CH-]1C=CC=C1.[Fe+2]", "metal complex (Fe)"), ("[cH-]1cccc1", "does not read back"),
                        ("[Na+].[Cl-]", "inorganic salt ClNa"), ("**C**", "unsupported element \\*"), ("C_[x]", "unexpected '\\_' at position 2")]:
        app.text_input(key=state.SMILES_TEXT).input(bad).run()
        assert not app.exception
        assert len(app.error) == 1 and reason in app.error[0].value, app.error[0].value
        assert app.code[0].value == bad  # the input as given, in a code block
        assert "Predictions" not in [s.value for s in app.subheader]


@pytest.mark.slow
def test_a_stripped_salt_is_a_warning_naming_what_was_removed(app):
    app.text_input(key=state.SMILES_TEXT).input("CC(=O)[O-].[Na+]").run()
    assert not app.exception and not app.error
    assert len(app.warning) >= 1 and "stripped Na+" in app.warning[0].value and "neutralized charges" in app.warning[0].value
    assert "Predictions" in [s.value for s in app.subheader]


@pytest.mark.slow
def test_example_picker_shows_note(app):
    app.radio(key=state.INPUT_MODE).set_value("Examples").run()
    app.selectbox(key=state.EXAMPLE).set_value("Benzo[a]pyrene").run()
    assert not app.exception
    assert any("NR-AhR" in c.value for c in app.caption)
    assert [s.value for s in app.subheader][0] == "Benzo[a]pyrene"


def test_models_page_leaderboard_card_and_test_split_plots():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.switch_page("pages/models.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Models"]
    board = at.dataframe[0].value
    # the default panel's dataset and split, read from bench/results: GraphMem is among the runs
    assert at.selectbox(key=state.MODELS_DATASET).value == "tox21" and at.radio(key=state.MODELS_SPLIT).value == "scaffold"
    assert "graphmem" in set(board["model"]) and board["seeds"].min() >= 1
    assert board["test ROC-AUC"].is_monotonic_decreasing  # best first
    assert "On its test split" in [s.value for s in at.subheader]
    assert len(at.get("plotly_chart")) == 3  # leaderboard, ROC curves, reliability
    at.selectbox(key=state.MODELS_DATASET).set_value("esol").run()
    board = at.dataframe[0].value
    assert not at.exception and "test RMSE" in board.columns and board["test RMSE"].is_monotonic_increasing


def test_models_page_regression_panel_shows_parity_plot(app):
    choose_panel(app, "ESOL", "MemGNN")
    app.switch_page("pages/models.py").run()
    assert not app.exception
    assert app.selectbox(key=state.MODELS_DATASET).value == "esol" and app.radio(key=state.MODELS_SPLIT).value == "random"
    assert len(app.get("plotly_chart")) == 2  # leaderboard, predicted against measured


def choose_panel(at: AppTest, dataset: str, model_title: str, trained_on: str = "") -> AppTest:
    """The first sidebar panel of this dataset and model whose title also has `trained_on`
    (e.g. "random split": the deployment panels come first)."""
    panel = at.sidebar.selectbox(key=state.PANEL)
    return panel.set_value(next(o for o in panel.options if o.startswith(dataset) and f"({model_title}," in o and trained_on in o)).run()


def test_memgnn_panel_shows_units_and_clusters(app):
    choose_panel(app, "ESOL", "MemGNN")
    app.text_input(key=state.SMILES_TEXT).input("CC(=O)Oc1ccccc1C(=O)O").run()
    assert not app.exception and not app.error
    headers = [s.value for s in app.subheader]
    assert "Why: how MemGNN grouped the atoms" in headers and "Why: where GraphMem looked" not in headers
    predictions = results_frame(app)
    assert predictions["units"].iloc[0] == "log mol/L" and predictions["test RMSE"].iloc[0] > 0
    table = app.dataframe[-1].value
    assert list(table.columns) == ["colour", "cluster", "atoms", "strength", "is exactly", "holds"]
    atoms = [a for row in table["atoms"] for a in row.split(", ")]
    assert sorted(atoms, key=lambda a: int(a[1:])) == [f"{s}{i}" for i, s in enumerate("CCOOCCCCCCCOO")]  # every atom in one cluster
    assert table["strength"].between(0, 1).all()


def test_ensemble_panel_predicts_the_mean_and_says_whose_clusters_are_shown(app):
    choose_panel(app, "ESOL", "MemGNN ensemble of 3", "random split")
    app.text_input(key=state.SMILES_TEXT).input("CC(=O)Oc1ccccc1C(=O)O").run()
    assert not app.exception and not app.error
    assert any("ensemble of 3 models" in i.value and "first model's" in i.value for i in app.info)
    assert "Why: how MemGNN grouped the atoms" in [s.value for s in app.subheader]
    from molapp.inference.predictor import Predictor
    from molapp.models.ensemble import Ensemble

    predictor = Predictor.load(ROOT / "checkpoints" / "memgnn-esol-random-ensemble", "cpu")
    assert isinstance(predictor.model.network, Ensemble)
    shown = results_frame(app)
    assert shown["prediction"].iloc[0] == pytest.approx(float(predictor.predict(["CC(=O)Oc1ccccc1C(=O)O"]).values[0, 0]), abs=1e-5)
    low, high = map(float, shown["members' range"].iloc[0].split(" … "))
    assert low < shown["prediction"].iloc[0] < high  # the mean of three different members lies between them


def test_models_page_lists_an_ensembles_members(app):
    choose_panel(app, "ESOL", "MemGNN ensemble of 3", "random split")
    app.switch_page("pages/models.py").run()
    assert not app.exception
    board = app.dataframe[0].value
    assert "memgnn ensemble of 3" in set(board["model"])  # the shipped ensemble on the leaderboard beside the single runs
    members = next(d.value for d in app.dataframe if "seed" in d.value.columns)
    assert members["seed"].tolist() == [0, 1, 2] and members["command"].str.startswith("python -m molapp.train").all()
    assert any("**Ensemble** of 3 members" in m.value for m in app.markdown)


def test_layer_selector_for_several_memory_layers(tiny_memgnn_checkpoint, monkeypatch):
    monkeypatch.setenv("MOLAPP_CHECKPOINTS", str(tiny_memgnn_checkpoint.parent))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    assert not at.exception
    layer = at.radio(key=state.MEMORY_LAYER)
    assert layer.options == ["layer 1", "layer 2"]
    first = at.dataframe[-1].value
    layer.set_value("layer 2").run()
    second = at.dataframe[-1].value
    assert not at.exception
    assert len(second) <= 3 and len(first) <= 6  # layer 1 has 6 keys, layer 2 has 3
    assert sorted(a for row in second["atoms"] for a in row.split(", ")) == sorted(a for row in first["atoms"] for a in row.split(", "))


@pytest.mark.slow
def test_graseq_panel_shows_the_fusion_gate_and_its_three_maps(app):
    choose_panel(app, "BBBP", "GraSeq")
    assert not app.exception
    assert "Why: graph or SMILES sequence" in [s.value for s in app.subheader]
    # The share shown is the shipped model's own gate for the molecule on the page.
    from molapp.explain.explanation import explain
    from molapp.inference.predictor import Predictor

    graseq = Predictor.load(ROOT / "checkpoints" / "graseq-bbbp-scaffold", "cpu")
    for smiles in (CAFFEINE, "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1"):
        app.text_input(key=state.SMILES_TEXT).input(smiles).run()
        shown = next(m.value for m in app.metric if m.label == "From the graph")
        assert shown == f"{float(explain(graseq, smiles).gate.mean()):.0%}"
    app.switch_page("pages/map.py").run()
    compare = app.selectbox(key=state.MAP_COMPARE)
    assert compare.options[1].startswith("GraSeq's graph-only")
    compare.set_value(compare.options[1]).run()
    assert not app.exception and len(app.get("plotly_chart")) == 3  # graph only, sequence only, fused


def test_transfer_panel_shows_the_task_dependency_heatmap(app):
    choose_panel(app, "Tox21", "task transfer")
    assert not app.exception
    assert "Why: which tasks this model learned from which" in [s.value for s in app.subheader]
    table = app.dataframe[-1].value
    assert len(table) == len(app.sidebar.multiselect[0].value) and table["own weight"].between(0, 1).all()
    assert len(app.get("plotly_chart")) >= 1


def test_predictions_come_with_base_rate_lift_calls_and_measured_labels(app):
    """Bisphenol A is in the Tox21 training data, measured active on NR-ER: the page says so,
    and its probability, low in absolute terms (2–12 % of Tox21 molecules are active), is
    called at the task's own threshold rather than at 0.5."""
    assert not app.exception
    table = results_frame(app).set_index("task")
    assert {"threshold", "base rate", "lift", "approved-drug percentile", "measured"} <= set(table.columns)
    assert table.loc["NR-ER", "measured"] == "active"
    assert any("Measured" in i.value and "NR-ER active" in i.value for i in app.info)
    assert table["threshold"].nunique() > 1 and (table["threshold"] < 0.5).sum() >= 6  # each task its own; most well below 0.5
    assert ((table["probability"] >= table["threshold"]) == (table["call"] == "active")).all()
    np.testing.assert_allclose(table["lift"], table["probability"] / table["base rate"], rtol=1e-4)
    assert table["approved-drug percentile"].between(0, 100).all()
    assert table.loc["NR-ER", "call"] == "active"


def test_one_threshold_overrides_the_per_task_calls(app):
    per_task = results_frame(app)
    app.sidebar.toggle(key=state.THRESHOLD_OVERRIDE).set_value(True).run()
    app.sidebar.slider(key=state.THRESHOLD).set_value(0.99).run()
    assert not app.exception
    table = results_frame(app)
    assert (table["threshold"] == 0.99).all() and ((table["probability"] >= 0.99) == (table["call"] == "active")).all()
    assert ((per_task["call"] == "active") & (table["call"] == "inactive")).any()  # the override took calls back


def test_models_page_leaderboard_follows_a_panel_changed_on_the_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.switch_page("pages/models.py").run()
    assert at.selectbox(key=state.MODELS_DATASET).value == "tox21"
    choose_panel(at, "ESOL", "MemGNN")  # on the Models page itself
    assert not at.exception
    assert at.selectbox(key=state.MODELS_DATASET).value == "esol" and at.radio(key=state.MODELS_SPLIT).value == "random"
    assert "test RMSE" in at.dataframe[0].value.columns
    at.radio(key=state.MODELS_SPLIT).set_value("scaffold").run()  # a choice on the page stays while the panel does
    assert at.radio(key=state.MODELS_SPLIT).value == "scaffold" and at.selectbox(key=state.MODELS_DATASET).value == "esol"
    at.switch_page("pages/predict.py").run()
    at.switch_page("pages/models.py").run()  # back on the page: still the panel's dataset
    assert at.selectbox(key=state.MODELS_DATASET).value == "esol" and not at.exception


@pytest.mark.parametrize("page, block", [("pages/models.py", "molapp.app.models_views.overview"),
                                         ("pages/predict.py", "molapp.app.views.results"),
                                         ("pages/triage.py", "molapp.app.triage_views.molecules_input"),
                                         ("pages/map.py", "molapp.app.map_views.panel_map"),
                                         ("pages/train.py", "molapp.app.train_views.request_form")])
def test_an_unexpected_error_is_a_short_message_with_an_id_and_a_logged_traceback(monkeypatch, caplog, page, block):
    def broken(*_, **__):
        raise RuntimeError("internal detail /srv/secret/path")

    monkeypatch.setattr(block, broken)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.switch_page(page).run()
    assert not at.exception
    message = at.error[0].value
    assert message.startswith("Something went wrong (error id ") and "secret" not in message
    error_id = message.split("error id ")[1].split(")")[0]
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info and "internal detail" in str(logged[0].exc_info[1])


def test_server_configuration_and_input_bounds(app):
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"  # watching .venv overflowed inotify
    assert config["server"]["maxUploadSize"] == 50 and config["client"]["toolbarMode"] == "viewer"
    assert config["client"]["showErrorDetails"] == "none"
    assert app.text_input(key=state.SMILES_TEXT).max_chars == 2000


def test_a_deployment_model_of_one_member_says_how_it_was_trained_and_shows_its_estimates_split(app):
    """The NCI-60 deployment panel: one MT-GraphMem trained on every row, estimated by its recipe's
    random-split run; the Models page opens on that split, not on an empty scaffold leaderboard."""
    choose_panel(app, "NCI-60", "MT-GraphMem", "deployment")
    app.switch_page("pages/models.py").run()
    assert not app.exception
    assert app.radio(key=state.MODELS_SPLIT).value == "random"
    assert any("**Trained** on every labelled row with `python -m molapp.train" in m.value and "--split all" in m.value
               for m in app.markdown)
    assert not any("**Ensemble** of 1" in m.value for m in app.markdown)


@pytest.mark.slow
def test_the_consensus_panel_says_what_it_combines_and_whose_attention_it_shows(app):
    """The Tox21 consensus: its predictions are its own (the panel's, not its GraphMem's), the
    explanation is its GraphMem member's attention and says so, with no descriptor chart (its
    forests have no gradient); the Models page lists its graph members and its forest."""
    choose_panel(app, "Tox21", "Consensus", "deployment")
    app.text_input(key=state.SMILES_TEXT).input(CAFFEINE).run()
    assert not app.exception and not app.error
    assert any("consensus of GraphMem (ensemble of 3), MemGNN, a random forest on RDKit's whole descriptor list" in i.value
               for i in app.info)
    assert "Why: where GraphMem looked" in [s.value for s in app.subheader]
    assert not any("Whole-molecule descriptors" in m.value for m in app.markdown)
    from molapp.inference.predictor import Predictor

    predictor = Predictor.load(ROOT / "checkpoints" / "consensus-tox21-deployment", "cpu")
    shown = results_frame(app)
    task = shown["task"].iloc[0]
    expected = float(predictor.predict([CAFFEINE], [task]).values[0, 0])
    assert shown["probability"].iloc[0] == pytest.approx(expected, abs=1e-5)
    app.switch_page("pages/models.py").run()
    assert not app.exception
    assert any("**Consensus** of 2 trained graph models and 1 random forest fitted" in m.value for m in app.markdown)
    members = next(d.value for d in app.dataframe if "checkpoint" in d.value.columns and "train_seconds" in d.value.columns)
    assert members["checkpoint"].tolist() == ["graphmem-tox21-deployment", "memgnn-tox21-all-seed0", "desc-rf-all-leaf10"]
