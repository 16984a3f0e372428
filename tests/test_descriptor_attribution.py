"""Integrated gradients over the descriptors of a GraphMem that reads them: the contributions
add up to the output's change from the training-average descriptors, for one model and for
an ensemble's mean."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from rdkit import Chem

from molapp.explain.descriptor_attribution import descriptor_contributions
from molapp.featurizers.descriptors import DESCRIPTOR_DIM
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS, MolGraphFeaturizer
from molapp.models.ensemble import Ensemble
from molapp.models.graphmem import GraphMem, GraphMemConfig

featurize = MolGraphFeaturizer(descriptors=True)
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
