"""RDKit molecule → torch_geometric `Data`: one-hot atom and bond features, bond relations.

GraphMem's memory is multi-relational (paper Eq. 2–3): each bond also carries an
`edge_type`, its relation index (single, double, triple, aromatic).

One Python pass reads each atom's and bond's properties into a small table (reading RDKit
from Python is the featurizer's main cost, so what follows from other reads is derived in
numpy instead: degree, ring membership and aromaticity of atoms from their bonds); the
one-hot matrices are built from it with numpy for many molecules at once
(`MolGraphFeaturizer.many`), so numpy's per-call cost is paid once per batch rather than
once per molecule. The result is plain numpy (`MolGraph`): building a torch_geometric
`Data` per molecule costs more than featurizing it, so batches are assembled directly
(`molapp.data.collate`).

GraSeq reads each molecule as a sequence too: `smiles_order` lists the atoms in the order
RDKit writes them in the canonical SMILES, and `smiles_tokens` is that SMILES tokenized
into the fixed vocabulary `SMILES_VOCAB` (what its decoder reconstructs).

A model that also reads whole-molecule descriptors (`molapp.featurizers.descriptors`)
gets them in `MolGraph.descriptors` from a featurizer built with `descriptors=<a set's version>`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from rdkit import Chem
from torch_geometric.data import Data

from molapp.featurizers.descriptors import descriptor_set

# Checkpoints record this version and refuse to load under another one. The SMILES fields
# (`smiles_order`, `smiles_tokens`) were added without a bump: x, edge_index, edge_attr and
# edge_type are unchanged, so every model trained on molgraph-v1 sees exactly the same input,
# and the tokens' vocabulary below is fixed (append to it only with a version bump).
FEATURIZER_VERSION = "molgraph-v1"

ELEMENTS = ["H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Se", "Br", "I", "Sn", "As"]
DEGREES = [0, 1, 2, 3, 4, 5]  # 6 and up share the last slot
FORMAL_CHARGES = [-2, -1, 0, 1, 2]  # beyond share the ends
TOTAL_HS = [0, 1, 2, 3, 4]
HYBRIDIZATIONS = [
    Chem.HybridizationType.SP,
    Chem.HybridizationType.SP2,
    Chem.HybridizationType.SP3,
    Chem.HybridizationType.SP3D,
    Chem.HybridizationType.SP3D2,
]  # anything else: an "other" slot
CHIRAL_TAGS = [
    Chem.ChiralType.CHI_UNSPECIFIED,
    Chem.ChiralType.CHI_TETRAHEDRAL_CW,
    Chem.ChiralType.CHI_TETRAHEDRAL_CCW,
]  # anything else: an "other" slot

BOND_TYPES = [Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE, Chem.BondType.AROMATIC]
RELATION_NAMES = ["single", "double", "triple", "aromatic"]
BOND_STEREO = [Chem.BondStereo.STEREONONE, Chem.BondStereo.STEREOZ, Chem.BondStereo.STEREOE]  # + "other"

_ELEMENT_INDEX = {symbol: i for i, symbol in enumerate(ELEMENTS)}
_ELEMENT_BY_Z = np.full(119, len(ELEMENTS), dtype=np.int64)  # "other element"
for _symbol, _i in _ELEMENT_INDEX.items():
    _ELEMENT_BY_Z[Chem.GetPeriodicTable().GetAtomicNumber(_symbol)] = _i

# Blocks of the atom feature vector: (name, size). Binary flags are one slot each.
ATOM_BLOCKS = [
    ("element", len(ELEMENTS) + 1),
    ("degree", len(DEGREES)),
    ("formal_charge", len(FORMAL_CHARGES)),
    ("total_hs", len(TOTAL_HS)),
    ("hybridization", len(HYBRIDIZATIONS) + 1),
    ("aromatic", 1),
    ("in_ring", 1),
    ("chirality", len(CHIRAL_TAGS) + 1),
]
BOND_BLOCKS = [("bond_type", len(BOND_TYPES)), ("conjugated", 1), ("in_ring", 1), ("stereo", len(BOND_STEREO) + 1)]
ATOM_DIM = sum(size for _, size in ATOM_BLOCKS)
BOND_DIM = sum(size for _, size in BOND_BLOCKS)
NUM_RELATIONS = len(BOND_TYPES)

_ATOM_OFFSETS = np.cumsum([0] + [size for _, size in ATOM_BLOCKS[:-1]])
_BOND_OFFSETS = np.cumsum([0] + [size for _, size in BOND_BLOCKS[:-1]])

# SMILES tokens: the regular expression of Schwaller et al. (Molecular Transformer, 2019),
# with "<" added for RDKit's dative bonds ("->", "<-"). One token is a bracket atom, a
# one- or two-letter organic-subset atom, a bond, a branch, a ring-closure digit or "%nn".
SMILES_TOKEN_PATTERN = re.compile(
    r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|\/|:|~|@|\?|>|<|\*|\$|\%[0-9]{2}|[0-9])"
)
PAD_TOKEN, START_TOKEN, END_TOKEN, UNKNOWN_TOKEN = "<pad>", "<start>", "<end>", "<unk>"
# A fixed vocabulary (ids are stored in checkpoints' embedding tables: append only). Padding
# is id 0. Bracket atoms: those written 5 times or more in the canonical SMILES of the
# MoleculeNet sets this app trains on; any other token reads as <unk>.
SMILES_VOCAB: tuple[str, ...] = (
    PAD_TOKEN, START_TOKEN, END_TOKEN, UNKNOWN_TOKEN,
    "C", "c", "N", "n", "O", "o", "S", "s", "P", "p", "F", "Cl", "Br", "I", "B", "b",
    "(", ")", ".", "=", "#", "-", "+", "\\", "/", ":", "~", "@", "?", ">", "<", "*", "$",
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", *(f"%{i}" for i in range(10, 20)),
    "[C@H]", "[C@@H]", "[nH]", "[N+]", "[O-]", "[C@]", "[C@@]", "[n+]", "[Si]", "[O]", "[N-]", "[PH]",
    "[C]", "[O+]", "[CH2]", "[Cl]", "[S+]", "[OH+]", "[c]", "[Sn]", "[NH2]", "[OH]", "[S]", "[NH]", "[N]",
    "[Se]", "[As]", "[P+]", "[Co-4]", "[Hg]", "[C-]", "[CH3]", "[c-]", "[Ni-2]", "[s+]", "[Cu-3]", "[Ge]",
    "[SH+]", "[CH]", "[o+]", "[n]", "[Pt-2]", "[se]", "[Al]", "[Pd-2]", "[B-]", "[Cr]", "[SiH]", "[Zn]",
    "[NH+]", "[Fe-2]", "[ClH+]", "[Au]", "[Sb]", "[Bi]", "[131I]", "[Pt+2]", "[Zn-2]", "[Zn-4]", "[Cu-5]",
    "[CH-]", "[CH2-]", "[S@]", "[S@@]", "[P@]", "[P@@]", "[N@]", "[N@@]", "[N@+]", "[N@@+]", "[2H]", "[13C]",
)
SMILES_TOKEN_ID = {token: i for i, token in enumerate(SMILES_VOCAB)}
PAD_ID, START_ID, END_ID, UNKNOWN_ID = (SMILES_TOKEN_ID[t] for t in (PAD_TOKEN, START_TOKEN, END_TOKEN, UNKNOWN_TOKEN))
# Longest token sequence kept, <start> and <end> included: a longer SMILES keeps its first
# MAX_SMILES_TOKENS - 2 tokens and still ends in <end> (about 1% of MoleculeNet's molecules,
# e.g. 14 of BBBP's 2039, are cut). Only the decoder's reconstruction target is cut;
# `smiles_order` always lists every atom.
MAX_SMILES_TOKENS = 120


def tokenize_smiles(smiles: str) -> np.ndarray:
    """int64 [L]: <start>, the SMILES's tokens (unknown ones as <unk>), <end>; L ≤ MAX_SMILES_TOKENS."""
    tokens = SMILES_TOKEN_PATTERN.findall(smiles)[: MAX_SMILES_TOKENS - 2]
    ids = [START_ID, *(SMILES_TOKEN_ID.get(t, UNKNOWN_ID) for t in tokens), END_ID]
    return np.array(ids, dtype=np.int64)


def detokenize_smiles(ids) -> str:
    """The text of token ids, stopping at <end> or padding; <start> is skipped."""
    out = []
    for i in ids:
        i = int(i)
        if i in (END_ID, PAD_ID):
            break
        if i != START_ID:
            out.append(SMILES_VOCAB[i])
    return "".join(out)


@dataclass(frozen=True)
class MolGraph:
    """A featurized molecule as numpy arrays (cheap to build, pickle and concatenate).

    x [num_atoms, ATOM_DIM] float32 one-hot; edge_index [2, 2·num_bonds] int64 (both
    directions); edge_attr [2·num_bonds, BOND_DIM] float32; edge_type [2·num_bonds] int64,
    the relation index 0..3. smiles_order [num_atoms] int64: the atom indices in the order
    the canonical SMILES writes them (a permutation of 0..num_atoms-1); smiles_tokens [L]
    int64: that SMILES as token ids, <start> … <end> (see `tokenize_smiles`).
    descriptors [DESCRIPTOR_DIM] float32, the whole-molecule descriptors, or None when
    the featurizer was not asked for them.
    """

    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray
    edge_type: np.ndarray
    smiles_order: np.ndarray
    smiles_tokens: np.ndarray
    descriptors: np.ndarray | None = None

    @property
    def num_atoms(self) -> int:
        return self.x.shape[0]

    def to_data(self) -> Data:
        return Data(
            x=torch.from_numpy(self.x),
            edge_index=torch.from_numpy(self.edge_index),
            edge_attr=torch.from_numpy(self.edge_attr),
            edge_type=torch.from_numpy(self.edge_type),
            num_nodes=self.num_atoms,
        )


def _slot_lookup(values: list, other: int, size: int = 16) -> np.ndarray:
    """An array mapping an RDKit enum's integer value to its slot (`other` for the rest):
    the enums are ints, so a whole table's column is translated at once."""
    lookup = np.full(size, other, dtype=np.int64)
    lookup[[int(v) for v in values]] = np.arange(len(values))
    return lookup


_HYBRID_SLOT = _slot_lookup(HYBRIDIZATIONS, len(HYBRIDIZATIONS))
_CHIRAL_SLOT = _slot_lookup(CHIRAL_TAGS, len(CHIRAL_TAGS))
# Bond-type slot by twice the bond order (`GetBondTypeAsDouble`): 2 single, 3 aromatic,
# 4 double, 6 triple; dative (order 1) and other unusual types: single.
_BOND_SLOT_BY_DOUBLE_ORDER = np.zeros(16, dtype=np.int64)
_BOND_SLOT_BY_DOUBLE_ORDER[[2, 4, 6, 3]] = np.arange(len(BOND_TYPES))
_SP2 = Chem.HybridizationType.SP2
_STEREO_SLOT = _slot_lookup(BOND_STEREO, len(BOND_STEREO))


def _read_atoms(mol: Chem.Mol) -> list[tuple]:
    """Per atom: atomic number, formal charge, total H count, hybridization, chiral tag.

    Reading RDKit from Python costs per call, most for an enum (a Python object is made),
    so nothing is read twice or read where the answer is known: an sp2 atom carries no
    chiral tag (RDKit clears tags on atoms that cannot be stereocentres), and aromaticity
    comes from the bonds (`_atom_slots`). `GetAtomWithIdx` is cheaper than iterating."""
    return [
        (atom.GetAtomicNum(), atom.GetFormalCharge(), atom.GetTotalNumHs(),
         hybridization := atom.GetHybridization(), atom.GetChiralTag() if hybridization != _SP2 else 0)
        for atom in map(mol.GetAtomWithIdx, range(mol.GetNumAtoms()))
    ]


def _read_bonds(mol: Chem.Mol) -> list[tuple]:
    """Per bond: begin, end, bond order (1, 1.5 aromatic, 2, 3; a float is cheaper to read
    than the bond-type enum), conjugated, stereo (read off double bonds only, the bonds
    with E/Z; RDKit's atropisomer stereo on single bonds never survives the SMILES that
    every input passes through, `molapp.chem.standardize`).
    Ring membership comes from the ring info in one call (`_ring_bonds`)."""
    return [
        (bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), order := bond.GetBondTypeAsDouble(), bond.GetIsConjugated(),
         bond.GetStereo() if order == 2.0 else 0)
        for bond in map(mol.GetBondWithIdx, range(mol.GetNumBonds()))
    ]


def _ring_bonds(mol: Chem.Mol) -> list[int]:
    """Indices of the bonds in a ring (with repeats: a bond shared by two rings is listed twice)."""
    return [index for ring in mol.GetRingInfo().BondRings() for index in ring]


def _atom_slots(read: np.ndarray, degree: np.ndarray, in_ring: np.ndarray, aromatic: np.ndarray) -> np.ndarray:
    """[atoms, 8] slots of ATOM_BLOCKS before offsets (-1: flag off) from `_read_atoms` rows."""
    table = np.empty((read.shape[0], 8), dtype=np.int64)
    table[:, 0] = _ELEMENT_BY_Z[read[:, 0]]
    table[:, 1] = np.minimum(degree, DEGREES[-1])
    table[:, 2] = np.clip(read[:, 1], FORMAL_CHARGES[0], FORMAL_CHARGES[-1]) - FORMAL_CHARGES[0]
    table[:, 3] = np.minimum(read[:, 2], TOTAL_HS[-1])
    table[:, 4] = _HYBRID_SLOT[read[:, 3]]
    table[:, 5] = np.where(aromatic, 0, -1)
    table[:, 6] = np.where(in_ring, 0, -1)
    table[:, 7] = _CHIRAL_SLOT[read[:, 4]]
    return table


def _bond_slots(read: np.ndarray, in_ring: np.ndarray) -> np.ndarray:
    """[bonds, 4] slots of BOND_BLOCKS before offsets from `_read_bonds` rows."""
    return np.stack([
        _BOND_SLOT_BY_DOUBLE_ORDER[np.clip(np.rint(2 * read[:, 2]).astype(np.int64), 0, 15)],
        np.where(read[:, 3] > 0, 0, -1),
        np.where(in_ring, 0, -1),
        _STEREO_SLOT[read[:, 4].astype(np.int64)],
    ], axis=1)


def _one_hot(table: np.ndarray, offsets: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((table.shape[0], width), dtype=np.float32)
    on = table >= 0
    out[np.nonzero(on)[0], (table + offsets)[on]] = 1.0
    return out


class MolGraphFeaturizer:
    """Callable: RDKit `Mol` → `MolGraph` (see there for shapes); with `descriptors` (a
    descriptor set's version, `molapp.featurizers.descriptors`) each graph also carries the
    molecule's descriptors of that set.

    Dative and other unusual bond types count as single bonds.
    """

    version = FEATURIZER_VERSION
    atom_dim = ATOM_DIM
    bond_dim = BOND_DIM
    num_relations = NUM_RELATIONS

    def __init__(self, descriptors: str | None = None) -> None:
        # which descriptors each graph carries (`molapp.featurizers.descriptors.descriptor_set`)
        self.descriptor_set = descriptor_set(descriptors)

    def __call__(self, mol: Chem.Mol, canonical_smiles: str | None = None) -> MolGraph:
        """`canonical_smiles`: `Chem.MolToSmiles(mol)`, when the caller's last call on `mol`
        wrote it (standardization does) — it is not written a second time."""
        return self.many([mol], [canonical_smiles])[0]

    def many(self, mols: Sequence[Chem.Mol], canonical_smiles: Sequence[str | None] | None = None) -> list[MolGraph]:
        """The graphs of several molecules. RDKit is read atom by atom (its Python API has
        no bulk reads); everything after that runs once for all of them, in numpy, so its
        per-call cost is paid once per chunk rather than once per molecule."""
        smiles = canonical_smiles if canonical_smiles is not None else [None] * len(mols)
        atom_rows: list[tuple] = []
        bond_rows: list[tuple] = []
        ring_bonds: list[int] = []  # indices over all the molecules' bonds
        sequences = []
        bonds_before = 0
        for mol, text in zip(mols, smiles):
            atom_rows += _read_atoms(mol)
            bond_rows += _read_bonds(mol)
            ring_bonds += [bonds_before + index for index in _ring_bonds(mol)]
            bonds_before += mol.GetNumBonds()
            sequences.append(_smiles_fields(mol, text))
        atom_counts = np.array([m.GetNumAtoms() for m in mols], dtype=np.int64)
        bond_counts = np.array([m.GetNumBonds() for m in mols], dtype=np.int64)
        atom_start = np.cumsum(atom_counts) - atom_counts
        bond_start = np.cumsum(bond_counts) - bond_counts
        atoms = np.array(atom_rows, dtype=np.int64).reshape(-1, 5)
        bonds = np.array(bond_rows, dtype=np.float64).reshape(-1, 5)  # float: the bond order
        bond_in_ring = np.zeros(len(bonds), dtype=bool)
        bond_in_ring[ring_bonds] = True

        # An atom's degree is its number of bonds; it is in a ring exactly when a bond of it
        # is, and aromatic exactly when a bond of it is (RDKit marks both from the same rings).
        ends = bonds[:, :2].astype(np.int64)  # atom indices within each molecule
        global_ends = ends + np.repeat(atom_start, bond_counts)[:, None]
        degree = np.bincount(global_ends.ravel(), minlength=len(atoms))
        in_ring = np.bincount(global_ends[bond_in_ring].ravel(), minlength=len(atoms)) > 0
        aromatic = np.bincount(global_ends[bonds[:, 2] == 1.5].ravel(), minlength=len(atoms)) > 0
        x = _one_hot(_atom_slots(atoms, degree, in_ring, aromatic), _ATOM_OFFSETS, ATOM_DIM)
        bond_slots = _bond_slots(bonds, bond_in_ring)
        bond_attr = _one_hot(bond_slots, _BOND_OFFSETS, BOND_DIM)

        # Directed edges, molecule by molecule: its bonds forward (begin → end), then reversed.
        molecule_of_bond = np.repeat(np.arange(len(mols)), bond_counts)
        within = np.arange(len(bonds)) - bond_start[molecule_of_bond]
        forward = 2 * bond_start[molecule_of_bond] + within
        backward = forward + bond_counts[molecule_of_bond]
        directed = np.empty(2 * len(bonds), dtype=np.int64)  # position → bond
        directed[forward], directed[backward] = np.arange(len(bonds)), np.arange(len(bonds))
        is_backward = np.zeros(2 * len(bonds), dtype=bool)
        is_backward[backward] = True
        source = np.where(is_backward, ends[directed, 1], ends[directed, 0])
        target = np.where(is_backward, ends[directed, 0], ends[directed, 1])
        edge_attr = bond_attr[directed]
        edge_type = bond_slots[directed, 0]
        descriptors = self.descriptor_set.compute(mols) if self.descriptor_set else [None] * len(mols)

        graphs = []
        for k, (order, tokens) in enumerate(sequences):
            a0, a1 = atom_start[k], atom_start[k] + atom_counts[k]
            e0, e1 = 2 * bond_start[k], 2 * (bond_start[k] + bond_counts[k])
            graphs.append(MolGraph(
                x=x[a0:a1],
                edge_index=np.stack([source[e0:e1], target[e0:e1]]),
                edge_attr=edge_attr[e0:e1],
                edge_type=edge_type[e0:e1],
                smiles_order=order,
                smiles_tokens=tokens,
                descriptors=descriptors[k],
            ))
        return graphs


def _smiles_fields(mol: Chem.Mol, smiles: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The atom order of the canonical SMILES and its tokens. RDKit records the order in
    which `MolToSmiles` wrote the atoms in the molecule's `_smilesAtomOutputOrder` property
    ("[3,1,0,2]"), read right after the call that set it (here, or the caller's that
    gave `smiles`)."""
    if smiles is None:
        smiles = Chem.MolToSmiles(mol)
    order = mol.GetProp("_smilesAtomOutputOrder").strip("[],")
    smiles_order = np.array(order.split(","), dtype=np.int64) if order else np.zeros(0, dtype=np.int64)
    return smiles_order, tokenize_smiles(smiles)
