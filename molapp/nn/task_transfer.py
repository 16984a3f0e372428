r"""Node-level knowledge transfer between tasks (Wu, Wang, Hu, Sun, "Chemical Property
Prediction via Graph Knowledge Transfer", slides: "Model detail", Stage II), batched over
the molecules of a batch and over all (source i, target j) task pairs.

Given every task's own node embeddings :math:`X_i` (one GCN encoder per task), for each
target task j and each source task i ≠ j:

.. math::
    X_{i\to j} = X_i S_i T_j^\top \qquad (S_i, T_j \in \mathbb R^{d\times d'})

    \mathrm{ATT}_{i\to j} = X_{i\to j} W_{Q,i} (X_i W_{K,j})^\top / \sqrt{d''}
        \qquad (W_{Q,i}, W_{K,j} \in \mathbb R^{d\times d''})

    \hat X_{i\to j} = \operatorname{softmax}(\mathrm{ATT}_{i\to j}, \text{dim}=-1)\, X_{i\to j}

    X_j^{comb} = [X_j, \hat X_{\cdot\to j}] \in \mathbb R^{k\times n\times d},\qquad
    \hat X_j = \textstyle\sum_i \operatorname{softmax}_i(D_{j,\cdot})_i\,
        \operatorname{Norm}(X_j^{comb})_i

Choices where the slides leave room (or disagree):

* Keys. The "Backbone model" slide writes the keys as :math:`X_j K_j` (the target's own
  embedding), the "Model detail" slide as :math:`X_i W_{K,j}` (the source's). This follows
  the detail slide: queries, keys and values all come from the source i's atoms, with the
  target j choosing how they are read (through :math:`T_j` and :math:`W_{K,j}`).
* Scaling by :math:`1/\sqrt{d''}` (not on the slides), as in scaled dot-product attention.
* Attention is within one molecule only: a square n×n block per molecule (padded with
  `to_dense_batch`, padding atoms masked out of the softmax).
* Slot i = j of :math:`X_j^{comb}` is :math:`X_j` itself (no self-transfer), so the
  merge weights :math:`W_{D_j}` are one learned row per target over all k tasks, here a
  softmax of a [k, k] parameter D (zeros at the start: all tasks weigh the same). Its rows
  are the task-dependency graph (`dependency`).
* Norm is a LayerNorm over d, shared by all slots.
* The "Two linear layers with ReLU" of Stage II's text are read as the two factors
  :math:`S_i, T_j^\top` of the formulas; no ReLU between them (the formulas have none).

The products are evaluated factorized so that no [k, k, B, n, d] query tensor is built:
:math:`X_{i\to j}W_{Q,i} = (X_iS_i)(T_j^\top W_{Q,i})` and
:math:`\hat X_{i\to j} = (\operatorname{softmax}(\cdot)\,X_iS_i)\,T_j^\top`.

The attention scores are [k, B, Q, n, n]: quadratic in the largest molecule and in the
number of tasks. SIDER's 27 tasks and a batch of its largest molecules (n ≈ 250) made
them 3·10⁹ numbers, and training was killed for memory at 22 GB. Where they would pass
`MAX_SCORE_ELEMENTS`, the sum over sources i runs in chunks of sources, each chunk
recomputed in the backward pass (activation checkpointing) instead of kept: the same
arithmetic, with memory bounded by one chunk's.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

# Scores held at once ([sources, B, Q, n, n]) before the sum over sources is chunked: 2^27 floats, 0.5 GB.
MAX_SCORE_ELEMENTS = 2**27


class TaskTransfer(nn.Module):
    """Inputs: `nodes` [k, B, n, d] (every task's node embeddings, padded per molecule),
    `mask` [B, n] (True for real atoms), `targets` [Q] (the target tasks j to compute).
    Output: the merged :math:`\\hat X_j` [Q, N, d] for the real atoms only (N = mask.sum(),
    in `to_dense_batch` order, i.e. the batch's atom order)."""

    def __init__(self, num_tasks: int, hidden: int, transfer_dim: int = 16, attention_dim: int = 16) -> None:
        super().__init__()
        k, d = num_tasks, hidden

        def weight(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.randn(*shape) / math.sqrt(shape[-2]))

        self.source = weight(k, d, transfer_dim)  # S_i
        self.target = weight(k, d, transfer_dim)  # T_j
        self.query = weight(k, d, attention_dim)  # W_{Q,i}
        self.key = weight(k, d, attention_dim)  # W_{K,j}
        self.norm = nn.LayerNorm(d)
        self.dependency_logits = nn.Parameter(torch.zeros(k, k))  # row j: target, column i: source
        self.scale = 1.0 / math.sqrt(attention_dim)

    def dependency(self) -> Tensor:
        """[k, k]: row j is the softmax over source tasks i of how much task i's
        (transferred) embedding weighs in task j's; each row sums to 1."""
        return torch.softmax(self.dependency_logits, dim=-1)

    def forward(self, nodes: Tensor, mask: Tensor, targets: Tensor, return_attention: bool = False) -> tuple[Tensor, Tensor | None]:
        """Returns (merged [Q, N, d], attention [k, B, Q, n, n] when asked, else None — source
        i's transfer to target q, rows: query atoms u, columns: attended atoms v; padding rows
        are meaningless)."""
        k, num_graphs, n, _ = nodes.shape
        weights = self.dependency()[targets]  # W_{D_j} [Q, k]
        is_self = torch.arange(k, device=nodes.device)[None, :] == targets[:, None]  # [Q, k]
        # Slot j of X_j^comb is X_j itself: its weight goes to Norm(X_j), the transferred
        # X̂_{j→j} (computed alongside, for the batching) gets none.
        source_weights = weights.masked_fill(is_self, 0.0)
        own = nodes[targets][:, mask]  # X_j [Q, N, d]
        own_part = (weights * is_self).sum(1)[:, None, None] * self.norm(own)
        per_chunk = max(1, MAX_SCORE_ELEMENTS // (num_graphs * targets.numel() * n * n))
        if return_attention or per_chunk >= k:
            transferred, attention = self.transferred(nodes, mask, targets, torch.arange(k, device=nodes.device))
            merged = torch.einsum("qi,iqnd->qnd", source_weights, self.norm(transferred))
            return merged + own_part, (attention if return_attention else None)
        merged = own_part
        for start in range(0, k, per_chunk):
            sources = torch.arange(start, min(k, start + per_chunk), device=nodes.device)
            if torch.is_grad_enabled():
                merged = merged + checkpoint(self.merged_from, nodes, mask, targets, sources, source_weights, use_reentrant=False)
            else:
                merged = merged + self.merged_from(nodes, mask, targets, sources, source_weights)
        return merged, None

    def merged_from(self, nodes: Tensor, mask: Tensor, targets: Tensor, sources: Tensor, source_weights: Tensor) -> Tensor:
        r""":math:`\sum_{i \in \text{sources}} w_{ji}\,\operatorname{Norm}(\hat X_{i\to j})` [Q, N, d]."""
        transferred, _ = self.transferred(nodes, mask, targets, sources)
        return torch.einsum("qi,iqnd->qnd", source_weights[:, sources], self.norm(transferred))

    def transferred(self, nodes: Tensor, mask: Tensor, targets: Tensor, sources: Tensor) -> tuple[Tensor, Tensor]:
        r""":math:`\hat X_{i\to j}` [S, Q, N, d] for the S given sources i and the Q targets j,
        and the attention [S, B, Q, n, n]."""
        _, num_graphs, n, d = nodes.shape
        queried = targets.numel()
        nodes = nodes.index_select(0, sources)  # X_i [S, B, n, d]
        target_t = self.target[targets]  # T_j [Q, d, d']
        projected = torch.einsum("ibnd,ide->ibne", nodes, self.source[sources])  # X_i S_i [S, B, n, d']
        # ATT_{i→j} = (X_i S_i) (T_jᵀ W_{Q,i} W_{K,j}ᵀ) X_iᵀ: a [d', d] form per pair, so that
        # the right factor X_i[b]ᵀ is shared by all targets and one bmm per (i, b) serves them.
        form = torch.einsum("qde,idf,qgf->iqeg", target_t, self.query[sources], self.key[targets])  # [S, Q, d', d]
        left = torch.einsum("ibne,iqeg->ibqng", projected, form)  # [S, B, Q, n, d]
        sources_count = sources.numel()
        scores = torch.matmul(left.reshape(sources_count, num_graphs, queried * n, d), nodes.transpose(-1, -2))  # [S, B, Q·n, n]
        scores = scores.view(sources_count, num_graphs, queried, n, n) * self.scale
        scores = scores.masked_fill(~mask[None, :, None, None, :], float("-inf"))
        attention = torch.softmax(scores, dim=-1)
        mixed = torch.matmul(attention.view(sources_count, num_graphs, queried * n, n), projected)  # softmax(ATT) X_i S_i [S, B, Q·n, d']
        mixed = mixed.view(sources_count, num_graphs, queried, n, -1).transpose(1, 2)[:, :, mask]  # real atoms only: [S, Q, N, d']
        return torch.einsum("iqne,qde->iqnd", mixed, target_t), attention  # X̂_{i→j} [S, Q, N, d]
