"""Batches of featurized molecules as one torch_geometric `Batch` (disjoint union of graphs).

Built from the numpy arrays with one concatenation per field, vectorized, instead of
`Batch.from_data_list`, whose per-graph work costs more than the featurization itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch_geometric.data import Batch

from molapp.featurizers.graph import MolGraph


def collate(graphs: Sequence[MolGraph]) -> Batch:
    """Shapes: x [N, atom_dim], edge_index [2, E] (offset per graph), edge_attr [E, bond_dim],
    edge_type [E], batch [N] (graph of each atom), ptr [B+1]; smiles_order [N] (global atom
    indices: `x[smiles_order]` lists each molecule's atoms in canonical-SMILES order, the
    molecules one after another as in x), smiles_tokens [B, Lmax] (padded with 0) and
    smiles_length [B]; descriptors [B, DESCRIPTOR_DIM] when the graphs carry them."""
    atom_counts = np.fromiter((g.x.shape[0] for g in graphs), dtype=np.int64, count=len(graphs))
    edge_counts = np.fromiter((g.edge_type.shape[0] for g in graphs), dtype=np.int64, count=len(graphs))
    token_counts = np.fromiter((g.smiles_tokens.shape[0] for g in graphs), dtype=np.int64, count=len(graphs))
    ptr = np.concatenate([[0], np.cumsum(atom_counts)])
    edge_index = np.concatenate([g.edge_index for g in graphs], axis=1) + np.repeat(ptr[:-1], edge_counts)
    smiles_order = np.concatenate([g.smiles_order for g in graphs]) + np.repeat(ptr[:-1], atom_counts)
    # Tokens into a zero-padded [B, Lmax] table: row = molecule, column = position within it.
    token_starts = np.concatenate([[0], np.cumsum(token_counts)[:-1]])
    rows = np.repeat(np.arange(len(graphs)), token_counts)
    columns = np.arange(int(token_counts.sum())) - np.repeat(token_starts, token_counts)
    smiles_tokens = np.zeros((len(graphs), int(token_counts.max(initial=0))), dtype=np.int64)
    smiles_tokens[rows, columns] = np.concatenate([g.smiles_tokens for g in graphs])
    extra = {}
    with_descriptors = sum(g.descriptors is not None for g in graphs)
    if with_descriptors == len(graphs) and graphs:
        extra["descriptors"] = torch.from_numpy(np.stack([g.descriptors for g in graphs]))
    elif with_descriptors:
        raise ValueError("some graphs of the batch carry descriptors and some don't: featurize them alike")
    return Batch(
        x=torch.from_numpy(np.concatenate([g.x for g in graphs])),
        edge_index=torch.from_numpy(edge_index),
        edge_attr=torch.from_numpy(np.concatenate([g.edge_attr for g in graphs])),
        edge_type=torch.from_numpy(np.concatenate([g.edge_type for g in graphs])),
        batch=torch.from_numpy(np.repeat(np.arange(len(graphs)), atom_counts)),
        ptr=torch.from_numpy(ptr),
        smiles_order=torch.from_numpy(smiles_order),
        smiles_tokens=torch.from_numpy(smiles_tokens),
        smiles_length=torch.from_numpy(token_counts),
        **extra,
    )


def training_batches(order: np.ndarray, size: int) -> list[np.ndarray]:
    """`order` (molecule indices) cut into batches of `size`; a last batch of one molecule
    joins the one before, since batch normalization cannot train on a batch that may hold a
    single atom."""
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    if len(chunks) > 1 and len(chunks[-1]) == 1:
        chunks[-2:] = [np.concatenate(chunks[-2:])]
    return chunks
