"""What every model kind promises, tested once for all of them: a molecule's prediction and
embedding do not depend on how its atoms are numbered or which SMILES it was read from,
nor on the other molecules of its batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from molapp.data.collate import collate
from molapp.featurizers.descriptors import DESCRIPTORS_VERSION
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS, MolGraphFeaturizer
from molapp.models.registry import model_spec
from molapp.training.trainer import TrainConfig

# (card kind, GraSeq variant): every kind, GraphMem also with descriptors, and GraSeq with and
# without its decoder and gate.
KINDS = [("graphmem", "f"), ("graphmem", "descriptors"), ("memgnn", "f"), ("gmn", "f"), ("graseq", "plain"), ("graseq", "rf"), ("gcn", "f"), ("transfer", "f")]
SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "CCO", "C", "c1ccc2ccccc2c1"]
featurize = MolGraphFeaturizer()
featurize_with_descriptors = MolGraphFeaturizer(descriptors=DESCRIPTORS_VERSION)


def small_model(kind: str, variant: str) -> torch.nn.Module:
    torch.manual_seed(0)
    config = TrainConfig(hidden=16, hops=3, keys="6,1", heads=2, query_layers=2, gcn_layers=2, transfer_dim=8,
                         attention_dim=4, lstm_hidden=8, variant=variant if kind == "graseq" else "f",
                         descriptors=variant == "descriptors", dropout=0.0)
    spec = model_spec(kind)
    model = spec.build(spec.model_config(config, atom_dim=ATOM_DIM, bond_dim=BOND_DIM, num_relations=NUM_RELATIONS, num_tasks=3)).eval()
    if variant == "descriptors":  # a scale from a few molecules, so that z(d) is not the raw descriptors
        model.set_descriptor_scale(torch.from_numpy(np.stack([featurize_with_descriptors(Chem.MolFromSmiles(s)).descriptors for s in SMILES])))
    return model


def outputs(model, mols) -> tuple[torch.Tensor, torch.Tensor]:
    reads_descriptors = getattr(getattr(model, "config", None), "descriptor_dim", 0) > 0
    out = model(collate([(featurize_with_descriptors if reads_descriptors else featurize)(m) for m in mols]), return_embedding=True)
    return out.logits, out.embedding


@pytest.mark.parametrize(("kind", "variant"), KINDS)
def test_invariant_to_atom_numbering(kind, variant):
    model = small_model(kind, variant)
    # No stereocentre: the featurizer's chirality slot (RDKit's CW/CCW tag) is relative to the
    # atom's neighbour order, so it can flip with the SMILES a chiral molecule is read from.
    mol = Chem.MolFromSmiles("CC(=O)Oc1ccc(Cl)cc1C(=O)NC(C)(CC)CO")
    others = [Chem.RenumberAtoms(mol, [int(i) for i in np.random.default_rng(seed).permutation(mol.GetNumAtoms())]) for seed in (1, 2)]
    others.append(Chem.MolFromSmiles("OCC(CC)(C)NC(=O)c1cc(Cl)ccc1OC(C)=O"))  # the same molecule written otherwise
    assert not all(np.array_equal(featurize(mol).x, featurize(m).x) for m in others)  # the atoms really are renumbered
    logits, embedding = outputs(model, [mol])
    for other in others:
        other_logits, other_embedding = outputs(model, [other])
        assert torch.allclose(other_logits, logits, atol=1e-5) and torch.allclose(other_embedding, embedding, atol=1e-5)


@pytest.mark.parametrize(("kind", "variant"), KINDS)
def test_molecule_alone_equals_molecule_in_batch(kind, variant):
    model = small_model(kind, variant)
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    together, _ = outputs(model, mols)
    for i, mol in enumerate(mols):
        assert torch.allclose(outputs(model, [mol])[0][0], together[i], atol=1e-5), SMILES[i]
