"""Reading memory-layer clusters as chemistry: functional groups found on known molecules,
hard clusters from a soft assignment, and the agreement counts the benchmark reports."""

from __future__ import annotations

import numpy as np
import torch
from rdkit import Chem

from molapp.explain.clusters import clusters, functional_groups, group_agreement
from molapp.explain.depict import cluster_spheres, clusters_svg
from molapp.explain.explanation import atom_assignments

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"  # atoms: C0 C1 O2 O3 c4..c9 C10 O11 O12


def names(smiles: str) -> dict[str, list[list[int]]]:
    found: dict[str, list[list[int]]] = {}
    for group in functional_groups(Chem.MolFromSmiles(smiles)):
        found.setdefault(group.name, []).append(sorted(group.atoms))
    return found


def test_functional_groups_of_known_molecules():
    aspirin = names(ASPIRIN)
    assert aspirin["ester"] == [[1, 2, 3]]
    assert aspirin["benzene ring"] == [[4, 5, 6, 7, 8, 9]]
    assert aspirin["carboxylic acid"] == [[10, 11, 12]]
    assert "hydroxyl" not in aspirin  # the acid's OH is part of the acid
    ethanol = names("CCO")
    assert ethanol["hydroxyl"] == [[1, 2]] and ethanol["carbon chain"] == [[0, 1]]
    assert names("OCC(Cl)(Cl)Cl")["trihalomethyl"] == [[2, 3, 4, 5]]
    assert names("c1ccncc1CN(C)C")["aromatic heterocycle"] == [[0, 1, 2, 3, 4, 5]]
    assert names("CC(=O)Nc1ccc(O)cc1")["amide"] == [[1, 2, 3]]
    assert names("CC#N")["nitrile"] == [[1, 2]]


def one_hot(owner: list[int], keys: int) -> np.ndarray:
    assignment = np.full((len(owner), keys), 0.02)
    assignment[np.arange(len(owner)), owner] = 1 - 0.02 * (keys - 1)
    return assignment


def test_clusters_name_the_groups_they_are_and_hold():
    mol = Chem.MolFromSmiles(ASPIRIN)
    # key 3: acetyl + ester oxygen; key 0: the ring; key 5: the acid
    owner = [3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 5, 5, 5]
    found = clusters(mol, one_hot(owner, 6))
    assert [c.key for c in found] == [3, 0, 5]  # in order of first atom
    assert found[0].atoms == (0, 1, 2, 3) and not found[0].is_group and [g.name for g in found[0].holds] == ["ester"]
    assert [g.name for g in found[1].is_group] == ["benzene ring"]
    assert [g.name for g in found[2].is_group] == ["carboxylic acid"]
    assert abs(found[2].strength - 0.9) < 1e-9


def test_a_cluster_can_be_several_matches_of_one_group():
    mol = Chem.MolFromSmiles("CC(C)(c1ccc(O)cc1)c1ccc(O)cc1")  # bisphenol A: C6–O7 and C13–O14 are its hydroxyls
    owner = [0] * mol.GetNumAtoms()
    for i in (6, 7, 13, 14):
        owner[i] = 1
    both = [c for c in clusters(mol, one_hot(owner, 2)) if c.key == 1][0]
    assert [g.name for g in both.is_group] == ["hydroxyl", "hydroxyl"]


def test_group_agreement_counts():
    mol = Chem.MolFromSmiles(ASPIRIN)
    counts = group_agreement(mol, one_hot([3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 5, 5, 5], 6), np.random.default_rng(0))
    assert counts["groups"] == 3 and counts["groups_in_one_cluster"] == 3
    assert counts["clusters"] == 3 and counts["clusters_that_are_a_group"] == 2
    scattered = group_agreement(mol, one_hot(list(range(13)), 13), np.random.default_rng(0))
    assert scattered["groups_in_one_cluster"] == 0 and scattered["clusters_that_are_a_group"] == 0


def test_deeper_layers_are_composed_onto_atoms():
    first = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    second = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])  # keys 0 and 1 merge
    last = torch.ones(1, 2, 1)
    layers = atom_assignments([first, second, last])
    assert len(layers) == 2  # the one-key layer is left out
    assert np.array_equal(layers[1].argmax(1), [0, 0, 1])
    assert np.allclose(layers[1].sum(1), 1)


def test_cluster_pictures_use_one_colour_per_cluster():
    mol = Chem.MolFromSmiles(ASPIRIN)
    assignment = one_hot([3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 5, 5, 5], 6)
    spheres = cluster_spheres(assignment)
    assert len(spheres) == 13 and len({s["color"] for s in spheres}) == 3
    assert spheres[0]["color"] == spheres[3]["color"] != spheres[4]["color"]
    svg = clusters_svg(mol, assignment)
    assert svg.strip().startswith("<svg") and "atom-12" in svg
