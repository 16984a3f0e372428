"""Atom and bond features on molecules whose chemistry we know."""

from __future__ import annotations

import numpy as np
from rdkit import Chem

from molapp.featurizers.graph import ATOM_BLOCKS, BOND_BLOCKS, ELEMENTS, MolGraphFeaturizer

featurize = MolGraphFeaturizer()


def block(features: np.ndarray, blocks, name: str) -> np.ndarray:
    start = 0
    for block_name, size in blocks:
        if block_name == name:
            return features[..., start : start + size]
        start += size
    raise KeyError(name)


def test_benzene_bonds_are_aromatic_ring_bonds():
    graph = featurize(Chem.MolFromSmiles("c1ccccc1"))
    assert graph.x.shape[0] == 6 and graph.edge_index.shape == (2, 12)
    assert (graph.edge_type == 3).all()  # relation: aromatic
    assert (block(graph.edge_attr, BOND_BLOCKS, "bond_type")[:, 3] == 1).all()
    assert (block(graph.edge_attr, BOND_BLOCKS, "in_ring") == 1).all()
    assert (block(graph.x, ATOM_BLOCKS, "aromatic") == 1).all()
    assert (block(graph.x, ATOM_BLOCKS, "total_hs")[:, 1] == 1).all()  # one H each


def test_charged_atom():
    graph = featurize(Chem.MolFromSmiles("C[N+](C)(C)C"))
    charge = block(graph.x, ATOM_BLOCKS, "formal_charge")  # slots -2, -1, 0, +1, +2
    assert charge[1].tolist() == [0, 0, 0, 1, 0]
    assert charge[0].tolist() == [0, 0, 1, 0, 0]
    assert block(graph.x, ATOM_BLOCKS, "element")[1, ELEMENTS.index("N")] == 1


def test_chiral_centre_and_double_bond_stereo():
    graph = featurize(Chem.MolFromSmiles("C[C@H](N)O"))
    chirality = block(graph.x, ATOM_BLOCKS, "chirality")  # unspecified, CW, CCW, other
    assert chirality[1, 1] + chirality[1, 2] == 1 and chirality[0, 0] == 1
    mirror = featurize(Chem.MolFromSmiles("C[C@@H](N)O"))
    assert not np.array_equal(block(mirror.x, ATOM_BLOCKS, "chirality")[1], chirality[1])
    trans = featurize(Chem.MolFromSmiles("C/C=C/C"))
    double = trans.edge_type == 1
    assert block(trans.edge_attr, BOND_BLOCKS, "stereo")[double][:, 2].all()  # E


def test_each_block_is_one_hot_and_edges_are_symmetric():
    graph = featurize(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
    for name, size in ATOM_BLOCKS:
        if size > 1:
            assert (block(graph.x, ATOM_BLOCKS, name).sum(1) == 1).all(), name
    pairs = set(map(tuple, graph.edge_index.T.tolist()))
    assert all((j, i) in pairs for i, j in pairs)
    assert graph.edge_attr.shape[0] == graph.edge_type.shape[0] == graph.edge_index.shape[1]


def test_deterministic():
    mol = Chem.MolFromSmiles("CN1CCC[C@H]1c1cccnc1")
    a, b = featurize(mol), featurize(mol)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.edge_index, b.edge_index)
