"""Atom and bond features on molecules whose chemistry we know."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors, rdMolDescriptors

from molapp.data.collate import collate
from molapp.featurizers.descriptors import DESCRIPTOR_DIM, DESCRIPTOR_NAMES, DESCRIPTORS_VERSION
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


# Molecules that exercise each shortcut the featurizer takes in reading RDKit (aromaticity
# from the bonds, ring bonds from the ring info, chiral tags read only off sp2 atoms, the
# bond type from its order): fused and hetero-aromatic rings, an exocyclic bond between
# aromatic atoms, E/Z and tetrahedral stereo, triple bonds, charges, a dative bond, a metal.
STRUCTURES = [
    "c1ccc2[nH]ccc2c1", "c1ccc(-c2ccccc2)cc1", "C/C=C\\C(=O)O", "F/C=C/[C@@H](Cl)Br", "C#CC#N",
    "O=[N+]([O-])c1ccccc1", "[NH3+]CC(=O)[O-]", "C1CC2CCC1C2", "N->[Pt](Cl)Cl", "O=C1C=CC(=O)C=C1",
    "N[C@@H](Cc1c[nH]cn1)C(=O)O", "CS(=O)(=O)c1ccc(cc1)C1=C(C(=O)OC1)c1ccccc1", "c1ccc2c(c1)oc1ccccc12",
]


def reference_features(mol: Chem.Mol) -> tuple[np.ndarray, np.ndarray]:
    """Atom and bond slot tables read the plain way, one RDKit getter per feature."""
    from molapp.featurizers.graph import BOND_STEREO, BOND_TYPES, CHIRAL_TAGS, DEGREES, FORMAL_CHARGES, HYBRIDIZATIONS, TOTAL_HS

    def slot(values, value):
        return values.index(value) if value in values else len(values)

    atoms = [[slot(ELEMENTS, a.GetSymbol()), min(a.GetDegree(), DEGREES[-1]),
              int(np.clip(a.GetFormalCharge(), -2, 2)) - FORMAL_CHARGES[0], min(a.GetTotalNumHs(), TOTAL_HS[-1]),
              slot(HYBRIDIZATIONS, a.GetHybridization()), int(a.GetIsAromatic()), int(a.IsInRing()),
              slot(CHIRAL_TAGS, a.GetChiralTag())] for a in mol.GetAtoms()]
    bonds = [[BOND_TYPES.index(b.GetBondType()) if b.GetBondType() in BOND_TYPES else 0, int(b.GetIsConjugated()),
              int(b.IsInRing()), slot(BOND_STEREO, b.GetStereo())] for b in mol.GetBonds()]
    return np.array(atoms), np.array(bonds).reshape(-1, 4)


def decode(features: np.ndarray, blocks) -> np.ndarray:
    """One-hot blocks back to slots; a one-slot flag block gives 1 (set) or 0."""
    columns = [block(features, blocks, name).argmax(1) if size > 1 else block(features, blocks, name)[:, 0]
               for name, size in blocks]
    return np.stack(columns, axis=1).astype(int)


@pytest.mark.parametrize("smiles", STRUCTURES + [line.split()[0] for line in open("tests/fixtures/tiny_molecules.smi")])
def test_features_are_rdkits_own_reads(smiles):
    mol = Chem.MolFromSmiles(smiles)
    graph = featurize(mol)
    atoms, bonds = reference_features(mol)
    assert np.array_equal(decode(graph.x, ATOM_BLOCKS), atoms)
    # edge k of the first half is bond k, begin → end
    first = graph.edge_index.shape[1] // 2
    assert np.array_equal(decode(graph.edge_attr[:first], BOND_BLOCKS), bonds)
    assert graph.edge_index[:, :first].T.tolist() == [[b.GetBeginAtomIdx(), b.GetEndAtomIdx()] for b in mol.GetBonds()]


def test_deterministic():
    mol = Chem.MolFromSmiles("CN1CCC[C@H]1c1cccnc1")
    a, b = featurize(mol), featurize(mol)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.edge_index, b.edge_index)


def test_smiles_order_follows_the_canonical_smiles():
    from molapp.featurizers.graph import SMILES_TOKEN_PATTERN

    for smiles in ["OC(=O)c1ccccc1OC(C)=O", "Cn1c(=O)c2c(ncn2C)n(C)c1=O", "C[C@H](N)O", "Clc1ccc(Br)cc1", "CCO", "[NH4+]"]:
        mol = Chem.MolFromSmiles(smiles)
        graph = featurize(mol)
        assert sorted(graph.smiles_order.tolist()) == list(range(mol.GetNumAtoms()))
        # Elements of the atoms in the order the canonical SMILES writes them.
        canonical = Chem.MolToSmiles(mol)
        written = [t for t in SMILES_TOKEN_PATTERN.findall(canonical) if t[0].isalpha() or t[0] == "["]
        written = [Chem.MolFromSmiles(t if t.startswith("[") else f"[{t[:1].upper() + t[1:]}]", sanitize=False).GetAtomWithIdx(0).GetSymbol() for t in written]
        element = block(graph.x, ATOM_BLOCKS, "element").argmax(1)
        assert [ELEMENTS[i] for i in element[graph.smiles_order]] == written, smiles


def test_smiles_tokens_round_trip():
    from molapp.featurizers.graph import END_ID, MAX_SMILES_TOKENS, START_ID, UNKNOWN_ID, detokenize_smiles, tokenize_smiles

    for smiles in ["CC(=O)Oc1ccccc1C(=O)O", "C/C=C/C[C@@H](N)C(=O)[O-]", "Brc1ccc2[nH]ccc2c1", "C1CC2CCC1CC2.Cl", "C#N"]:
        mol = Chem.MolFromSmiles(smiles)
        tokens = featurize(mol).smiles_tokens
        assert tokens[0] == START_ID and tokens[-1] == END_ID and UNKNOWN_ID not in tokens
        assert detokenize_smiles(tokens) == Chem.MolToSmiles(mol)
    assert tokenize_smiles("[Xe]C")[1] == UNKNOWN_ID  # a token outside the vocabulary
    long = tokenize_smiles("C" * 500)
    assert len(long) == MAX_SMILES_TOKENS and long[-1] == END_ID


def test_collate_offsets_smiles_order_and_pads_tokens():
    from molapp.data.collate import collate

    graphs = [featurize(Chem.MolFromSmiles(s)) for s in ["OCC", "c1ccccc1O", "N"]]
    batch = collate(graphs)
    order = batch.smiles_order.numpy()
    starts = np.repeat([0, 3, 10], [3, 7, 1])
    assert np.array_equal(order - starts, np.concatenate([g.smiles_order for g in graphs]))
    assert np.array_equal(batch.batch.numpy()[order], batch.batch.numpy())  # molecules stay contiguous
    assert np.array_equal(batch.x.numpy()[order][3:10], graphs[1].x[graphs[1].smiles_order])
    assert batch.smiles_length.tolist() == [len(g.smiles_tokens) for g in graphs]
    assert batch.smiles_tokens.shape == (3, max(len(g.smiles_tokens) for g in graphs))
    for row, graph in zip(batch.smiles_tokens.numpy(), graphs):
        assert np.array_equal(row[: len(graph.smiles_tokens)], graph.smiles_tokens) and not row[len(graph.smiles_tokens):].any()


def test_standardized_molecules_featurize_as_from_scratch():
    """Standardization hands its canonical SMILES to the featurizer (no second MolToSmiles):
    the SMILES atom order and tokens must be those the featurizer would write itself."""
    from molapp.chem.standardize import standardize

    for smiles in ["OC(=O)c1ccccc1O.[Na+]", "C[N+](C)(C)CC(=O)[O-]", "c1ccc2[nH]ccc2c1", "N[C@@H](C)C(=O)O"]:
        record = standardize(smiles)
        given, written = featurize(record.mol, record.canonical_smiles), featurize(Chem.Mol(record.mol))
        assert np.array_equal(given.smiles_order, written.smiles_order) and np.array_equal(given.smiles_tokens, written.smiles_tokens)


def test_many_at_once_equals_one_at_a_time():
    """Featurizing a batch builds each molecule's arrays from shared tables: each graph must
    be exactly the one featurizing it alone gives, including bond-less and H-explicit ones,
    with its edges pointing at its own atoms."""
    smiles = ["CCO", "C", "[Na+]", "c1ccccc1O", "F[C@H](Cl)Br", "C/C=C/C", "OC(=O)CC1CC1", "[NH4+]"]
    mols = [Chem.MolFromSmiles(s) for s in smiles] + [Chem.AddHs(Chem.MolFromSmiles("CC=O"))]
    together = featurize.many(mols)
    for mol, graph in zip(mols, together):
        alone = featurize(mol)
        for field in ("x", "edge_index", "edge_attr", "edge_type", "smiles_order", "smiles_tokens"):
            assert np.array_equal(getattr(graph, field), getattr(alone, field)), (Chem.MolToSmiles(mol), field)
        assert graph.num_atoms == mol.GetNumAtoms() and graph.edge_index.shape == (2, 2 * mol.GetNumBonds())
        if mol.GetNumBonds():
            assert graph.edge_index.max() < mol.GetNumAtoms()
    assert featurize.many([]) == []


def test_descriptors_are_rdkits():
    aspirin = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    graph = MolGraphFeaturizer(descriptors=DESCRIPTORS_VERSION)(aspirin)
    assert graph.descriptors.shape == (DESCRIPTOR_DIM,) and graph.descriptors.dtype == np.float32
    value = dict(zip(DESCRIPTOR_NAMES, graph.descriptors.tolist()))
    for name in ("MolLogP", "MolMR", "TPSA", "LabuteASA", "ExactMolWt", "FractionCSP3", "NumHDonors", "NumAromaticRings", "Chi0v", "HallKierAlpha"):
        assert value[name] == pytest.approx(getattr(Descriptors, name)(aspirin), rel=1e-5), name
    assert [value[f"MQN{i}"] for i in range(1, 43)] == rdMolDescriptors.MQNs_(aspirin)
    assert value["FormalCharge"] == 0 and value["NumHDonors"] == 1 and value["NumAromaticRings"] == 1
    assert featurize(aspirin).descriptors is None  # only when asked for


def test_a_batch_mixing_graphs_with_and_without_descriptors_is_refused():
    mol = Chem.MolFromSmiles("CCO")
    assert collate([MolGraphFeaturizer(descriptors=DESCRIPTORS_VERSION)(mol)] * 2).descriptors.shape == (2, DESCRIPTOR_DIM)
    with pytest.raises(ValueError, match="featurize them alike"):
        collate([featurize(mol), MolGraphFeaturizer(descriptors=DESCRIPTORS_VERSION)(mol)])


def test_descriptor_labels_say_what_the_values_count():
    from molapp.featurizers.descriptors import DESCRIPTOR_LABELS

    ibuprofen = MolGraphFeaturizer(descriptors=DESCRIPTORS_VERSION)(Chem.MolFromSmiles("CC(C)Cc1ccc(cc1)C(C)C(=O)O"))
    value = {DESCRIPTOR_LABELS[n]: v for n, v in zip(DESCRIPTOR_NAMES, ibuprofen.descriptors.tolist())}
    assert set(DESCRIPTOR_LABELS) == set(DESCRIPTOR_NAMES)
    assert value["carbon atoms"] == 13 and value["heavy atoms"] == 15 and value["rotatable bonds"] == 4
    assert value["H-bond donor atoms"] == 1 and value["H-bond acceptor atoms"] == 2 and value["acyclic double bonds"] == 1
    assert value["6-membered rings"] == 1 and value["acyclic monovalent atoms"] == 5  # 3 methyls, =O, OH


def test_the_descriptor_sets_and_how_a_featurizer_is_told_which():
    from molapp.featurizers.descriptors import (ALL_RDKIT_DESCRIPTOR_NAMES, ALL_RDKIT_DESCRIPTORS_VERSION, DESCRIPTORS_VERSION,
                                                all_rdkit_descriptors, descriptor_set)
    from rdkit.Chem import Descriptors

    assert descriptor_set(None) is None and descriptor_set(DESCRIPTORS_VERSION).version == DESCRIPTORS_VERSION
    with pytest.raises(ValueError, match="unknown descriptor set True"):  # one way to name a set: its version
        descriptor_set(True)
    with pytest.raises(ValueError, match="unknown descriptor set 'rdkit-descriptors-v9'"):
        descriptor_set("rdkit-descriptors-v9")
    aspirin = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    graph = MolGraphFeaturizer(descriptors=ALL_RDKIT_DESCRIPTORS_VERSION)(aspirin)
    assert graph.descriptors.shape == (len(ALL_RDKIT_DESCRIPTOR_NAMES),) and graph.descriptors.dtype == np.float32
    value = dict(zip(ALL_RDKIT_DESCRIPTOR_NAMES, graph.descriptors.tolist()))
    assert value["MolWt"] == pytest.approx(np.log1p(Descriptors.MolWt(aspirin)), rel=1e-5)  # log-scaled: sign(x)·log(1+|x|)
    assert value["MolLogP"] == pytest.approx(np.sign(Descriptors.MolLogP(aspirin)) * np.log1p(abs(Descriptors.MolLogP(aspirin))), rel=1e-5)
    raw = all_rdkit_descriptors([aspirin])[0]
    assert raw[ALL_RDKIT_DESCRIPTOR_NAMES.index("MolWt")] == pytest.approx(Descriptors.MolWt(aspirin), rel=1e-5)  # the forest's, unscaled
    huge = all_rdkit_descriptors([Chem.MolFromSmiles("C" * 60 + "c1ccccc1" * 3)])
    assert np.isfinite(huge).all() and np.abs(huge).max() <= 1e30  # Ipc's tail clipped inside float32
