"""Memory-layer clusters read as chemistry: which atoms each cluster holds, and which
functional groups (RDKit SMARTS) those atoms form — the paper's claim (Fig. 2, 5) that the
clusters match chemical groups, made checkable.

A group *lies in* a cluster when all its atoms are in it; a cluster *is* a group when its
atoms are exactly one or more matches of that group (clusters are made by atom
environment, not by connectivity, so the two phenols of bisphenol A can share one).
Groups are on heavy atoms (hydrogens are implicit): a hydroxyl is C–O(H).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from rdkit import Chem

# (name, SMARTS): the groups a medicinal chemist names first. Order matters only for display.
FUNCTIONAL_GROUPS: list[tuple[str, str]] = [
    ("carboxylic acid", "[CX3](=O)[OX2H1,OX1-]"),
    ("ester", "[#6][CX3](=O)[OX2H0][#6]"),
    ("amide", "[NX3][CX3](=[OX1])"),
    ("aldehyde", "[CX3H1](=O)[#6]"),
    ("ketone", "[#6][CX3](=O)[#6]"),
    ("hydroxyl", "[OX2H][#6;!$(C=O)]"),
    ("ether", "[OD2;!$(OC=O)]([#6])[#6]"),
    ("amine", "[NX3;!$(N[C,S,P]=[O,S,N]);!$(N-a);!$(N#*);!$([N+])][#6]"),
    ("aniline nitrogen", "[NX3;H2,H1;!$(NC=O)]c"),
    ("nitro", "[$([NX3](=O)=O),$([NX3+](=O)[O-])]"),
    ("nitrile", "[NX1]#[CX2]"),
    ("sulfonamide", "[SX4](=O)(=O)[NX3]"),
    ("sulfone", "[#6][SX4](=O)(=O)[#6]"),
    ("thiol", "[SX2H]"),
    ("thioether", "[SX2]([#6])[#6]"),
    ("phosphate", "P(=O)([OX2,OX1-])([OX2,OX1-])"),
    ("trihalomethyl", "[CX4]([F,Cl,Br,I])([F,Cl,Br,I])[F,Cl,Br,I]"),
    ("fluoro", "[F][#6]"),
    ("chloro", "[Cl][#6]"),
    ("bromo", "[Br][#6]"),
    ("iodo", "[I][#6]"),
    ("alkene", "[CX3;!a]=[CX3;!a]"),
    ("alkyne", "[CX2]#[CX2]"),
]
# Which atoms of a match make the group: the heteroatom part, not the carbon it hangs on.
_GROUP_ATOMS = {
    "ester": [1, 2, 3], "ketone": [1, 2], "aldehyde": [0, 1], "ether": [0], "amine": [0],
    "aniline nitrogen": [0], "sulfone": [1, 2, 3], "thioether": [0],
    "fluoro": [0], "chloro": [0], "bromo": [0], "iodo": [0],
}


@functools.lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, Chem.Mol]]:
    return [(name, Chem.MolFromSmarts(smarts)) for name, smarts in FUNCTIONAL_GROUPS]


@dataclass(frozen=True)
class Group:
    name: str
    atoms: frozenset[int]

    def label(self, mol: Chem.Mol) -> str:
        return f"{self.name} ({', '.join(atom_label(mol, i) for i in sorted(self.atoms))})"


def atom_label(mol: Chem.Mol, index: int) -> str:
    return f"{mol.GetAtomWithIdx(index).GetSymbol()}{index}"


def functional_groups(mol: Chem.Mol) -> list[Group]:
    """Every match of `FUNCTIONAL_GROUPS`, aromatic rings (benzene or heteroaromatic), and
    acyclic carbon chains (≥ 2 connected sp3 carbons outside rings)."""
    found: set[Group] = set()
    for name, pattern in _patterns():
        keep = _GROUP_ATOMS.get(name)
        for match in mol.GetSubstructMatches(pattern):
            found.add(Group(name, frozenset(match[i] for i in keep) if keep else frozenset(match)))
    for ring in mol.GetRingInfo().AtomRings():
        atoms = [mol.GetAtomWithIdx(i) for i in ring]
        if all(a.GetIsAromatic() for a in atoms):
            benzene = len(ring) == 6 and all(a.GetSymbol() == "C" for a in atoms)
            found.add(Group("benzene ring" if benzene else "aromatic heterocycle" if any(a.GetSymbol() != "C" for a in atoms) else "aromatic ring", frozenset(ring)))
    found.update(Group("carbon chain", chain) for chain in _carbon_chains(mol))
    return sorted(found, key=lambda g: (min(g.atoms), g.name))


def _carbon_chains(mol: Chem.Mol) -> list[frozenset[int]]:
    chain_atoms = {a.GetIdx() for a in mol.GetAtoms() if a.GetSymbol() == "C" and not a.IsInRing() and a.GetHybridization() == Chem.HybridizationType.SP3}
    chains, seen = [], set()
    for start in chain_atoms:
        if start in seen:
            continue
        component, frontier = {start}, [start]
        while frontier:
            atom = mol.GetAtomWithIdx(frontier.pop())
            for neighbour in atom.GetNeighbors():
                j = neighbour.GetIdx()
                if j in chain_atoms and j not in component:
                    component.add(j)
                    frontier.append(j)
        seen |= component
        if len(component) >= 2:
            chains.append(frozenset(component))
    return chains


@dataclass(frozen=True)
class Cluster:
    """Atoms whose strongest assignment is memory key `key`; `strength` is their mean
    assignment to it (1: hard, 1/K: no preference)."""

    key: int
    atoms: tuple[int, ...]
    strength: float
    is_group: tuple[Group, ...]  # matches of one group whose atoms together are exactly the cluster's
    holds: tuple[Group, ...]  # groups lying wholly in the cluster


def clusters(mol: Chem.Mol, assignment: np.ndarray, groups: Iterable[Group] | None = None) -> list[Cluster]:
    """The hard clusters of a soft assignment [N, K] (argmax per atom), in order of their
    first atom, each with the functional groups it holds or is."""
    groups = list(functional_groups(mol) if groups is None else groups)
    owner = assignment.argmax(1)
    out = []
    for key in dict.fromkeys(owner.tolist()):  # keys in order of first appearance
        atoms = tuple(int(i) for i in np.flatnonzero(owner == key))
        members = frozenset(atoms)
        holds = tuple(g for g in groups if g.atoms <= members)
        exact = ()
        for name in dict.fromkeys(g.name for g in holds):
            matches = tuple(g for g in holds if g.name == name)
            if frozenset().union(*(g.atoms for g in matches)) == members:
                exact = matches
                break
        out.append(Cluster(int(key), atoms, float(assignment[list(atoms), key].mean()), exact, holds))
    return out


def group_agreement(mol: Chem.Mol, assignment: np.ndarray, rng: np.random.Generator) -> dict:
    """Counts for the benchmark, over the multi-atom functional groups of one molecule:
    how many lie wholly in one cluster, and how many would by chance (the same cluster
    sizes, atoms shuffled); how many clusters are exactly a group."""
    groups = [g for g in functional_groups(mol) if len(g.atoms) >= 2]
    owner = assignment.argmax(1)
    shuffled = rng.permutation(owner)
    found = clusters(mol, assignment, groups)
    return {
        "groups": len(groups),
        "groups_in_one_cluster": sum(len({owner[i] for i in g.atoms}) == 1 for g in groups),
        "groups_in_one_cluster_by_chance": sum(len({shuffled[i] for i in g.atoms}) == 1 for g in groups),
        "clusters": len(found),
        "clusters_that_are_a_group": sum(bool(c.is_group) for c in found),
    }
