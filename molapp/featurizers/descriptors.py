"""RDKit molecule → whole-molecule descriptors: a float32 vector a model reads beside the graph.

What a graph network must otherwise learn from scratch — size, lipophilicity, polar
surface, charge distribution, ring and atom-type counts — in 70 numbers computed by RDKit
(their cost per molecule: `python bench/throughput.py`, `stages_one_core.descriptors_seconds`
in bench/results/throughput-hiv10k.json): the 42 molecular quantum numbers (MQN, Nguyen et al. 2009), the
14 PEOE_VSA bins (surface area by Gasteiger partial charge), Crippen logP and molar
refractivity, TPSA, Labute ASA, exact mass, fraction sp3, H-bond donors, aromatic and
aliphatic rings, heteroatoms, net charge, Chi0v, Chi1v and the Hall-Kier alpha.

Chosen by cost: RDKit's full descriptor list (`all_rdkit_descriptors`, 217 in RDKit 2026.09)
adds the expensive families (QED, BCUT2D, the EState and Ipc families, 85 fragment SMARTS).
What the rest are worth is measured, not assumed: the ladder's `desc-rf` (these 70) against
`desc-rf-all` (all of them), the same random forest on the same canonical splits
(`python bench/ladder.py --models desc-rf,desc-rf-all --datasets tox21`,
bench/results/desc-rf*-tox21-*.json; bench/RESULTS.md's ladder tables).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem
from rdkit.Chem import Descriptors
from rdkit.Chem import rdMolDescriptors as rd

from molapp.featurizers.fingerprints import ECFP_BITS, ecfp

# Checkpoints whose model reads descriptors record this; the list is fixed (a change is a new version).
DESCRIPTORS_VERSION = "rdkit-descriptors-v1"

DESCRIPTOR_NAMES: tuple[str, ...] = (
    *(f"MQN{i}" for i in range(1, 43)),
    *(f"PEOE_VSA{i}" for i in range(1, 15)),
    "MolLogP", "MolMR", "TPSA", "LabuteASA", "ExactMolWt", "FractionCSP3", "NumHDonors",
    "NumAromaticRings", "NumAliphaticRings", "NumHeteroatoms", "FormalCharge", "Chi0v", "Chi1v", "HallKierAlpha",
)
DESCRIPTOR_DIM = len(DESCRIPTOR_NAMES)

# What each descriptor is, for people: the MQNs in RDKit's MQNs_ order (atoms, bonds, polarity,
# topology; checked on known molecules in the tests),
# the PEOE_VSA bins by Gasteiger partial charge (RDKit's bin edges).
_MQN_LABELS = (
    "carbon atoms", "fluorine atoms", "chlorine atoms", "bromine atoms", "iodine atoms", "sulfur atoms",
    "phosphorus atoms", "acyclic nitrogens", "cyclic nitrogens", "acyclic oxygens", "cyclic oxygens", "heavy atoms",
    "acyclic single bonds", "acyclic double bonds", "acyclic triple bonds", "cyclic single bonds", "cyclic double bonds",
    "cyclic triple bonds", "rotatable bonds", "H-bond acceptor sites", "H-bond acceptor atoms", "H-bond donor sites",
    "H-bond donor atoms", "negative charges", "positive charges", "acyclic monovalent atoms", "acyclic divalent atoms",
    "acyclic trivalent atoms", "acyclic tetravalent atoms", "cyclic divalent atoms", "cyclic trivalent atoms",
    "cyclic tetravalent atoms", "3-membered rings", "4-membered rings", "5-membered rings", "6-membered rings",
    "7-membered rings", "8-membered rings", "9-membered rings", "rings of 10 or more", "atoms shared by fused rings",
    "bonds shared by fused rings",
)
_PEOE_EDGES = (-0.3, -0.25, -0.2, -0.15, -0.1, -0.05, 0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
_PEOE_LABELS = tuple(
    f"surface area with partial charge {'< ' + str(_PEOE_EDGES[0]) if k == 0 else ('≥ ' + str(_PEOE_EDGES[-1]) if k == 13 else f'in [{_PEOE_EDGES[k - 1]}, {_PEOE_EDGES[k]})')}"
    for k in range(14)
)
DESCRIPTOR_LABELS: dict[str, str] = {
    **{f"MQN{i + 1}": label for i, label in enumerate(_MQN_LABELS)},
    **{f"PEOE_VSA{k + 1}": label for k, label in enumerate(_PEOE_LABELS)},
    "MolLogP": "logP (Crippen)", "MolMR": "molar refractivity (Crippen)", "TPSA": "topological polar surface area",
    "LabuteASA": "accessible surface area (Labute)", "ExactMolWt": "exact mass", "FractionCSP3": "fraction of sp3 carbons",
    "NumHDonors": "H-bond donors (Lipinski)", "NumAromaticRings": "aromatic rings", "NumAliphaticRings": "aliphatic rings",
    "NumHeteroatoms": "heteroatoms", "FormalCharge": "net formal charge", "Chi0v": "valence connectivity χ0v",
    "Chi1v": "valence connectivity χ1v", "HallKierAlpha": "Hall-Kier alpha (shape)",
}


def _describe(mol: Chem.Mol) -> list[float]:
    return [
        *rd.MQNs_(mol),
        *rd.PEOE_VSA_(mol),
        *rd.CalcCrippenDescriptors(mol),
        rd.CalcTPSA(mol),
        rd.CalcLabuteASA(mol),
        rd.CalcExactMolWt(mol),
        rd.CalcFractionCSP3(mol),
        rd.CalcNumHBD(mol),
        rd.CalcNumAromaticRings(mol),
        rd.CalcNumAliphaticRings(mol),
        rd.CalcNumHeteroatoms(mol),
        Chem.GetFormalCharge(mol),
        rd.CalcChi0v(mol),
        rd.CalcChi1v(mol),
        rd.CalcHallKierAlpha(mol),
    ]


def molecular_descriptors(mols: Sequence[Chem.Mol]) -> np.ndarray:
    """float32 [len(mols), DESCRIPTOR_DIM], columns in `DESCRIPTOR_NAMES` order. A value
    RDKit cannot compute (NaN, e.g. Gasteiger charges of an exotic element) reads as 0."""
    out = np.array([_describe(mol) for mol in mols], dtype=np.float64).reshape(len(mols), DESCRIPTOR_DIM)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


# RDKit's whole descriptor list (Descriptors._descList: its names and functions); the list
# changes between RDKit versions, so a model reading it records this version.
ALL_RDKIT_DESCRIPTOR_NAMES: tuple[str, ...] = tuple(name for name, _ in Descriptors._descList)
ALL_RDKIT_DESCRIPTORS_VERSION = f"rdkit-{Chem.rdBase.rdkitVersion}-all-{len(ALL_RDKIT_DESCRIPTOR_NAMES)}"
# float32's range, kept clear of: Ipc reaches 1e30 and more on large molecules
_LARGEST = 1e30


def all_rdkit_descriptors(mols: Sequence[Chem.Mol]) -> np.ndarray:
    """float32 [len(mols), len(ALL_RDKIT_DESCRIPTOR_NAMES)], columns in that order, unscaled
    (for a model that needs no scaling, such as a random forest). A value RDKit cannot compute
    reads as 0; values beyond ±1e30 are clipped there."""
    rows = [[value for value in Descriptors.CalcMolDescriptors(mol, missingVal=np.nan).values()] for mol in mols]
    out = np.array(rows, dtype=np.float64).reshape(len(mols), len(ALL_RDKIT_DESCRIPTOR_NAMES))
    return np.clip(np.nan_to_num(out, nan=0.0, posinf=_LARGEST, neginf=-_LARGEST), -_LARGEST, _LARGEST).astype(np.float32)


def log_scaled_rdkit_descriptors(mols: Sequence[Chem.Mol]) -> np.ndarray:
    """`all_rdkit_descriptors` through sign(x)·log(1 + |x|): RDKit's list spans counts, ratios
    and values up to 1e30 (Ipc), which a mean and standard deviation cannot scale; the log
    tames the tails, and GraphMem standardizes what it reads on its training set as it does
    the 70. (Chemprop-RDKit maps each value through a distribution fitted on ChEMBL instead.)"""
    values = all_rdkit_descriptors(mols).astype(np.float64)
    return (np.sign(values) * np.log1p(np.abs(values))).astype(np.float32)


@dataclass(frozen=True)
class DescriptorSet:
    """What a model reading descriptors reads: `compute` maps molecules to float32 [n, dim],
    columns `names`; `labels` says what each is, for people. `version` is what its cards record."""

    version: str
    names: tuple[str, ...]
    labels: Mapping[str, str]
    compute: Callable[[Sequence[Chem.Mol]], np.ndarray]

    @property
    def dim(self) -> int:
        return len(self.names)


DESCRIPTOR_SETS: dict[str, DescriptorSet] = {
    DESCRIPTORS_VERSION: DescriptorSet(DESCRIPTORS_VERSION, DESCRIPTOR_NAMES, DESCRIPTOR_LABELS, molecular_descriptors),
    ALL_RDKIT_DESCRIPTORS_VERSION: DescriptorSet(
        ALL_RDKIT_DESCRIPTORS_VERSION, ALL_RDKIT_DESCRIPTOR_NAMES,
        {name: f"{DESCRIPTOR_LABELS.get(name, name)} (log-scaled)" for name in ALL_RDKIT_DESCRIPTOR_NAMES},
        log_scaled_rdkit_descriptors),
}


# What the Tox21 consensus reads (`molapp.models.consensus`): the 70 (its GraphMem member's), then
# RDKit's whole list unscaled and ECFP4 bits (its forests'), the last two of the standardized
# canonical SMILES re-parsed, exactly as the baselines' forests were fitted and chosen
# (bench/ladder.py's featurize_dataset).
CONSENSUS_FEATURES_VERSION = f"consensus-features-v1-{ALL_RDKIT_DESCRIPTORS_VERSION}"


def _consensus_features(mols: Sequence[Chem.Mol]) -> np.ndarray:
    reread = [Chem.MolFromSmiles(Chem.MolToSmiles(mol)) for mol in mols]
    return np.concatenate([molecular_descriptors(mols), all_rdkit_descriptors(reread), ecfp(reread).astype(np.float32)], axis=1)


# Which columns of the consensus features each reader takes: block name → [start, stop).
CONSENSUS_BLOCKS: dict[str, tuple[int, int]] = {
    "rdkit-70": (0, DESCRIPTOR_DIM),
    "rdkit-all": (DESCRIPTOR_DIM, DESCRIPTOR_DIM + len(ALL_RDKIT_DESCRIPTOR_NAMES)),
    "ecfp": (DESCRIPTOR_DIM + len(ALL_RDKIT_DESCRIPTOR_NAMES), DESCRIPTOR_DIM + len(ALL_RDKIT_DESCRIPTOR_NAMES) + ECFP_BITS),
}
_CONSENSUS_NAMES = (*DESCRIPTOR_NAMES, *(f"rdkit:{name}" for name in ALL_RDKIT_DESCRIPTOR_NAMES),
                    *(f"ECFP4 bit {k}" for k in range(ECFP_BITS)))
DESCRIPTOR_SETS[CONSENSUS_FEATURES_VERSION] = DescriptorSet(
    CONSENSUS_FEATURES_VERSION, _CONSENSUS_NAMES,
    {**DESCRIPTOR_LABELS, **{f"rdkit:{name}": name for name in ALL_RDKIT_DESCRIPTOR_NAMES},
     **{name: name for name in _CONSENSUS_NAMES if name.startswith("ECFP4")}},
    _consensus_features)
# The train CLI's --descriptor-set: the 70 chosen by cost (the default), or all of RDKit's.
DESCRIPTOR_SET_CHOICES = {"rdkit-70": DESCRIPTORS_VERSION, "rdkit-all": ALL_RDKIT_DESCRIPTORS_VERSION}


def descriptor_set(descriptors: str | None) -> DescriptorSet | None:
    """The set a featurizer computes for `descriptors`, a set's version (a card's
    `descriptors`, e.g. DESCRIPTORS_VERSION for the 70); none for None."""
    if descriptors is None:
        return None
    if descriptors not in DESCRIPTOR_SETS:
        raise ValueError(f"unknown descriptor set {descriptors!r}; this version of molapp knows {', '.join(DESCRIPTOR_SETS)}")
    return DESCRIPTOR_SETS[descriptors]
