"""Integrated gradients over the descriptors of a GraphMem that reads them: the contributions
add up to the output's change from the training-average descriptors, for one model and for
an ensemble's mean."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from rdkit import Chem

from molapp.explain.descriptor_attribution import descriptor_baseline, descriptor_contributions
from molapp.explain.explanation import explain_descriptors
from molapp.featurizers.descriptors import DESCRIPTOR_DIM, DESCRIPTORS_VERSION
from molapp.data.collate import collate
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS, MolGraphFeaturizer
from molapp.models.ensemble import Ensemble
from molapp.inference.predictor import Predictor
from molapp.models.card import Card
from molapp.models.outputs import PlattCalibration, PredictionModel
from molapp.models.graphmem import GraphMem, GraphMemConfig

featurize = MolGraphFeaturizer(descriptors=DESCRIPTORS_VERSION)
TRAINING = ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "CCN(CC)CC", "ClC(Cl)Cl", "OC(=O)CCC(=O)O"]


def model(seed: int) -> GraphMem:
    torch.manual_seed(seed)
    config = GraphMemConfig(ATOM_DIM, BOND_DIM, NUM_RELATIONS, num_tasks=3, hidden=16, hops=3, dropout=0.0,
                            descriptor_dim=DESCRIPTOR_DIM)
    graphmem = GraphMem(config)
    graphmem.set_descriptor_scale(torch.from_numpy(np.stack([featurize(Chem.MolFromSmiles(s)).descriptors for s in TRAINING])))
    return graphmem.eval()


def test_contributions_add_up_to_the_change_from_the_average_descriptors():
    graph = featurize(Chem.MolFromSmiles("CC(C)(c1ccc(O)cc1)c1ccc(O)cc1"))
    for chosen in (model(0), Ensemble([model(1), model(2)])):
        contributions, gap = descriptor_contributions(chosen, graph, torch.tensor([0, 2]), steps=128)
        assert contributions.shape == (2, DESCRIPTOR_DIM)
        assert np.abs(gap).max() > 1e-3  # the descriptors do move the output
        assert np.allclose(contributions.sum(1), gap, atol=0.02 * np.abs(gap).max() + 1e-4)


def test_a_molecule_with_the_average_descriptors_gets_no_contributions():
    graphmem = model(0)
    graph = featurize(Chem.MolFromSmiles("CCO"))
    average = dataclasses.replace(graph, descriptors=graphmem.descriptor_mean.numpy().copy())
    contributions, gap = descriptor_contributions(graphmem, average, torch.tensor([1]))
    assert np.allclose(contributions, 0.0) and np.allclose(gap, 0.0, atol=1e-6)


def test_the_app_reads_contributions_on_the_calibrated_probabilitys_logit():
    """The Predict page shows calibrated probabilities σ(a·z + b); its descriptor chart adds up
    to the change in their logit, not in the model's raw one."""
    graphmem = model(0)
    card = Card("graphmem", "molgraph-v1", ["a", "b", "c"], "classification", config=graphmem.config.to_dict(),
                output="platt", descriptors=DESCRIPTORS_VERSION)
    calibrated = PredictionModel(graphmem, PlattCalibration(3, torch.tensor([0.4, 1.0, 2.5]), torch.tensor([-2.0, 0.0, 1.0])))
    predictor = Predictor(calibrated, card, torch.device("cpu"))
    smiles = "CC(=O)Oc1ccccc1C(=O)O"
    graph = featurize(Chem.MolFromSmiles(smiles))
    ends = collate([graph, graph])
    ends.descriptors = torch.stack([ends.descriptors[0], descriptor_baseline(graphmem)])
    with torch.inference_mode():
        shown = calibrated(ends, torch.tensor([2])).values[:, 0].double()
    shown_logit = torch.log(shown) - torch.log1p(-shown)
    reading = explain_descriptors(predictor, smiles, "c")
    assert reading.gap == pytest.approx(float(shown_logit[0] - shown_logit[1]), rel=1e-3)
    assert reading.table["contribution"].sum() == pytest.approx(reading.gap, rel=0.05, abs=1e-3)
