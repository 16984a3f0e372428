"""The consensus panel (`molapp.models.consensus`, `python -m molapp.cli.consensus`): graph
checkpoints and random forests, each source's score a percentile among the approved drugs,
their mean Platt-calibrated; built from split models (figures, calibration) and from
deployment models (which carry those)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from molapp.baselines.models import random_forest
from molapp.cli import consensus as consensus_cli
from molapp.cli import train as train_cli
from molapp.data.collate import collate
from molapp.data.dataset import load_dataset, read_labels
from molapp.data.featurize import featurize_smiles
from molapp.evaluation.split_predictions import SplitPredictions
from molapp.explain.explanation import explain
from molapp.featurizers.descriptors import CONSENSUS_BLOCKS, CONSENSUS_FEATURES_VERSION, all_rdkit_descriptors
from molapp.featurizers.fingerprints import ecfp_of_smiles
from molapp.inference.calls import percentile_among
from molapp.inference.predictor import Predictor
from molapp.models.checkpoint import load_checkpoint, read_card
from molapp.models.consensus import approved_percentile
from molapp.models.registry import architecture_summary, benchmark_name, descriptors_added, is_assembled

from .conftest import FIXTURES

DATA = FIXTURES / "ladder"  # 60-row bbbp with its scaffold split, 40-row clintox (30 approved)
QUERIES = ["CC(=O)Nc1ccc(O)cc1", "c1ccccc1O", "CN1CCC[C@H]1c1cccnc1", "CCN(CC)CC", "not a smiles"]


def _train(out, model: str, split: str, *extra: str) -> None:
    assert train_cli.main(["--dataset", "bbbp", "--data-dir", str(DATA), "--model", model, "--hidden", "16", "--max-epochs", "2",
                           "--no-early-stopping", "--threads", "1", "--workers", "1", "--split", split, "--seed", "0",
                           "--out", str(out), *extra]) == 0


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A split consensus (GraphMem with descriptors + GCN + two forests) and the same recipe on every row."""
    root = tmp_path_factory.mktemp("consensus")
    for split in ("scaffold", "all"):
        _train(root / f"graphmem-{split}", "graphmem", split, "--descriptors")
        _train(root / f"gcn-{split}", "gcn", split)
    forests = "desc-rf-all:3,ecfp-rf:1"
    assert consensus_cli.main(["--members", f"{root / 'graphmem-scaffold'},{root / 'gcn-scaffold'}", "--forests", forests,
                               "--out", str(root / "split"), "--data-dir", str(DATA), "--results-dir", str(root / "results")]) == 0
    assert consensus_cli.main(["--members", f"{root / 'graphmem-all'},{root / 'gcn-all'}", "--forests", forests,
                               "--estimate", str(root / "split"), "--out", str(root / "deployment"), "--data-dir", str(DATA)]) == 0
    return root


def _rdkit_all(smiles: list[str]) -> np.ndarray:
    return all_rdkit_descriptors([Chem.MolFromSmiles(s) for s in smiles])


def _independent_sources(root, split: str, smiles: list[str]) -> list[np.ndarray]:
    """Each source's scores [n, 1] of the molecules `smiles` stand for (as given: a member
    standardizes and featurizes them itself), computed without the consensus: the member
    checkpoints through their own predictors, the forests refitted with scikit-learn on the
    same training rows (the baselines' forests and seeds) and fed the standardized SMILES."""
    predictions = [Predictor.load(root / f"{kind}-{split}", "cpu").predict(smiles) for kind in ("graphmem", "gcn")]
    scores = [p.values for p in predictions]
    canonical = [m.canonical_smiles for m in predictions[0].molecules]
    train = load_dataset("bbbp", str(DATA)).split(split, str(DATA)).train
    train_smiles = [m.canonical_smiles for m in train.molecules]
    labelled = ~np.isnan(train.labels[:, 0])
    for features, leaf in ((_rdkit_all, 3), (ecfp_of_smiles, 1)):
        forest = random_forest("classification", 0, 0, leaf).fit(features(train_smiles)[labelled], train.labels[labelled, 0].astype(int))
        scores.append(forest.predict_proba(features(canonical).astype(np.float32))[:, 1:])
    return scores


def _approved_as_given() -> list[str]:
    """ClinTox's approved drugs as its file writes them, those that can be scored."""
    spec, smiles, labels = read_labels("clintox", str(DATA))
    approved = [s for s, flag in zip(smiles, labels[:, spec.tasks.index("FDA_APPROVED")]) if flag == 1]
    return [s for s, m in zip(approved, featurize_smiles(approved)) if m.ok]


@pytest.mark.slow
def test_the_consensus_is_the_mean_approved_drug_percentile_of_its_sources(built):
    model, card = load_checkpoint(built / "split")
    consensus = model.network
    predictor = Predictor.load(built / "split", "cpu")
    queries = [m.canonical_smiles for m in predictor.predict(QUERIES[:4]).molecules]
    approved = _approved_as_given()
    assert len(approved) == consensus.config.approved_count

    def sources(smiles: list[str]) -> list[np.ndarray]:
        batch = collate([m.graph for m in predictor.predict(smiles).molecules])
        with torch.inference_mode():
            return [s.numpy() for s in consensus.source_scores(batch)[0]]

    # each source scores as it does alone: the members as their own checkpoints, the forests as scikit-learn
    for seen, alone in zip(sources(queries), _independent_sources(built, "scaffold", queries)):
        np.testing.assert_allclose(seen, alone, atol=1e-6)
    for stored, alone in zip(consensus.approved_scores.numpy(), _independent_sources(built, "scaffold", approved)):
        np.testing.assert_allclose(stored.T, np.sort(alone, axis=0), atol=1e-6)  # the reference: every approved drug, sorted
    # the raw output is their mean percentile among the approved drugs
    expected = np.mean([_percentile(stored.T, seen) for stored, seen in zip(consensus.approved_scores.numpy(), sources(queries))], axis=0)
    with torch.inference_mode():
        raw = consensus(collate([m.graph for m in predictor.predict(queries).molecules])).logits.numpy()
    np.testing.assert_allclose(raw, expected, atol=1e-6)
    assert len(np.unique(raw)) > 1  # the sources rank these molecules differently: not a constant
    # the panel's probability is the Platt fit of that mean, fitted on valid
    slope, intercept = model.output.slope.numpy(), model.output.intercept.numpy()
    np.testing.assert_allclose(predictor.predict(queries).values, 1 / (1 + np.exp(-(slope * expected + intercept))), rtol=1e-5)


def _percentile(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`approved_percentile` written out value by value: at a reference value, the tie-half
    share below it; between two, linear between the ranks (k - ½)/R of the two; past an end, the end's."""
    size = len(reference)
    out = np.empty(values.shape)
    for (row, task), value in np.ndenumerate(values):
        column = reference[:, task]
        below, not_above = int((column < value).sum()), int((column <= value).sum())
        if not_above > below:
            out[row, task] = (below + not_above) / (2 * size)
        elif below == 0 or below == size:
            out[row, task] = 0.5 / size if below == 0 else 1 - 0.5 / size
        else:
            left, right = column[below - 1], column[below]
            out[row, task] = (below - 0.5 + (value - left) / (right - left)) / size
    return out


def test_the_approved_percentile_is_the_tie_half_rank_at_references_and_continuous_between():
    reference = np.array([[0.1, 0.2, 0.2, 0.5, 0.9], [1.0, 2.0, 3.0, 4.0, 5.0]], dtype=np.float32).T  # [R, Q]
    values = np.array([[0.0, 0.1, 0.15, 0.2, 0.35, 0.9, 1.0], [0.5, 1.0, 1.5, 2.0, 4.5, 5.0, 9.0]], dtype=np.float32).T
    got = approved_percentile(torch.from_numpy(reference.T.copy()), torch.from_numpy(values)).numpy()
    np.testing.assert_allclose(got, _percentile(reference, values), atol=1e-6)
    at = [1, 3, 5]  # values that are reference values: percentile_among's figure exactly
    np.testing.assert_allclose(got[at, 0], percentile_among(reference, values)[at, 0] / 100, atol=1e-6)
    np.testing.assert_allclose(got[:, 1], [0.1, 0.1, 0.2, 0.3, 0.8, 0.9, 0.9], atol=1e-6)  # no ties: (k - ½)/5, linear
    nudged = approved_percentile(torch.from_numpy(reference.T.copy()), torch.from_numpy(values + 1e-6)).numpy()
    assert np.abs(nudged[:, 1] - got[:, 1]).max() < 1e-5  # float noise moves a prediction by as little


@pytest.mark.slow
def test_a_split_consensus_card_has_its_figures_calibration_and_members(built):
    card = read_card(built / "split")
    assert card.model == "consensus" and is_assembled(card.model) and card.output == "platt" and card.calibration.fitted_on == "valid"
    assert card.descriptors == CONSENSUS_FEATURES_VERSION and card.reads_descriptors and not descriptors_added(card)
    assert 0 <= card.metrics["test"]["mean"] <= 1 and card.metrics["valid"]["p_np"] == card.metrics["valid"]["mean"]
    assert [m.checkpoint for m in card.members] == ["graphmem-scaffold", "gcn-scaffold", "desc-rf-all-leaf3", "ecfp-rf"]
    assert [f["features"] for f in card.config["forests"]] == ["rdkit-all", "ecfp"] and card.config["members"][0]["features"] == "rdkit-70"
    assert architecture_summary(card) == "graphmem + gcn + 2 forests (desc-rf-all-leaf3, ecfp-rf)"
    assert benchmark_name(card) == "consensus"
    assert (built / "split" / "test_predictions.safetensors").exists() and (built / "results" / "assembled-split.json").exists()


@pytest.mark.slow
def test_a_deployment_consensus_carries_its_estimates_calibration_and_figures(built):
    deployed, card = load_checkpoint(built / "deployment")
    estimate, estimate_card = load_checkpoint(built / "split")
    assert card.split == "all" and card.metrics == estimate_card.metrics and card.estimate["scaffold"].checkpoint == "split"
    assert torch.equal(deployed.output.slope, estimate.output.slope) and card.calibration.fitted_on == "valid of split"
    # the held-out predictions the Models page draws are the estimate's, through that same calibration
    shown, measured = SplitPredictions.load(built / "deployment"), SplitPredictions.load(built / "split")
    np.testing.assert_array_equal(shown.predictions, measured.predictions)
    np.testing.assert_array_equal(shown.labels, measured.labels)
    # its own members: trained on every row, and its forests fitted on every row
    assert [m.checkpoint for m in card.members][:2] == ["graphmem-all", "gcn-all"]
    rows = card.sizes["bbbp"]["train"]
    assert rows > estimate_card.sizes["bbbp"]["train"]
    values = Predictor.load(built / "deployment", "cpu").predict(QUERIES)
    assert values.status == ["ok"] * 4 + ["error"] and np.isnan(values.values[4]).all() and np.all((values.values[:4] > 0) & (values.values[:4] < 1))


@pytest.mark.slow
def test_the_explanation_is_the_graphmem_members_attention(built):
    predictor = Predictor.load(built / "deployment", "cpu")
    result = explain(predictor, QUERIES[0])
    member = explain(Predictor.load(built / "graphmem-all", "cpu"), QUERIES[0])
    np.testing.assert_allclose(result.attention, member.attention, atol=1e-6)
    assert result.attention.shape[1] == Chem.MolFromSmiles(QUERIES[0]).GetNumAtoms()
    np.testing.assert_allclose(result.values, predictor.predict(QUERIES[:1]).values[0], rtol=1e-5)


def test_consensus_features_hold_each_readers_block():
    from molapp.featurizers.descriptors import DESCRIPTOR_SETS, molecular_descriptors

    mol = Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1")
    features = DESCRIPTOR_SETS[CONSENSUS_FEATURES_VERSION].compute([mol])
    for block, expected in (("rdkit-70", molecular_descriptors([mol])), ("rdkit-all", all_rdkit_descriptors([mol])),
                            ("ecfp", ecfp_of_smiles([Chem.MolToSmiles(mol)]).astype(np.float32))):
        start, stop = CONSENSUS_BLOCKS[block]
        np.testing.assert_array_equal(features[:, start:stop], expected)
    assert features.shape[1] == max(stop for _, stop in CONSENSUS_BLOCKS.values())


@pytest.mark.slow
def test_assembly_refuses_what_it_cannot_build(built, tmp_path):
    def run(*args: str) -> int:
        return consensus_cli.main([*args, "--out", str(tmp_path / f"out{len(list(tmp_path.iterdir()))}"), "--data-dir", str(DATA)])

    split = f"{built / 'graphmem-scaffold'},{built / 'gcn-scaffold'}"
    assert run("--members", f"{built / 'gcn-scaffold'},{built / 'graphmem-scaffold'}") == 2  # GraphMem first: its attention is shown
    assert run("--members", f"{built / 'split'},{built / 'gcn-scaffold'}") == 2  # a consensus is no member
    assert run("--members", f"{built / 'graphmem-scaffold'},{built / 'gcn-all'}") == 2  # one split
    assert run("--members", f"{built / 'graphmem-all'},{built / 'gcn-all'}") == 2  # deployment members need --estimate
    assert run("--members", split, "--estimate", str(built / "split")) == 2  # split members have their own valid rows
    assert run("--members", split, "--forests", "svm:3") == 2
    assert run("--members", f"{built / 'graphmem-all'},{built / 'gcn-all'}", "--forests", "ecfp-rf:1",
               "--estimate", str(built / "split")) == 2  # not the estimate's forests: not its recipe


def test_the_train_cli_does_not_train_a_consensus(tmp_path):
    with pytest.raises(SystemExit):
        train_cli.main(["--dataset", "bbbp", "--data-dir", str(DATA), "--model", "consensus", "--out", str(tmp_path / "x")])
