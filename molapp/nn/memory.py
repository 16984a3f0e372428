"""The memory layer of MemGNN and GMN (Khasahmadi et al., "Memory-Based Graph Networks",
ICLR 2020, section 3.1) and its clustering loss (section 3.4).

Shapes: B molecules, n nodes per molecule (padded to the largest, with a mask), d input
size, K keys (clusters), h heads, d' output size. Nothing here keeps state between calls.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import MemPooling


class MemoryLayer(nn.Module):
    r"""One memory layer: coarsen n input nodes into K output nodes and transform them.

    .. math::
        C_{k,ij} = \frac{(1 + \lVert q_i - \kappa_{kj} \rVert^2/\tau)^{-\frac{\tau+1}{2}}}
                        {\sum_{j'} (1 + \lVert q_i - \kappa_{kj'} \rVert^2/\tau)^{-\frac{\tau+1}{2}}}
        \quad\text{(Eq. 1, per head k)}

        C = \operatorname{softmax}_j\big(\Gamma_\phi(\Vert_k C_k)\big)\quad\text{(Eq. 2, 1×1 conv over heads)}

        V = C^\top Q,\qquad Q' = \operatorname{LeakyReLU}(V W)\quad\text{(Eq. 3–4)}

    Built on `torch_geometric.nn.MemPooling`, which computes Eq. 1–3 and the linear map of
    Eq. 4 exactly as written (keys initialized uniformly in [-1, 1], bias-free 1×1 conv and
    W). It differs in two places, both handled here: it returns V W without the
    non-linearity (applied here), and its `kl_loss` lets gradients flow through the target
    P, which the paper (after DEC) holds fixed — see `clustering_loss`.

    Input: queries [B, n, d] and mask [B, n] (True for real nodes). Output: queries
    [B, K, d'] and the soft assignment C [B, n, K] (zero rows for padding).
    """

    def __init__(self, in_size: int, out_size: int, keys: int, heads: int, tau: float = 1.0) -> None:
        super().__init__()
        self.pool = MemPooling(in_size, out_size, heads=heads, num_clusters=keys, tau=tau)

    @property
    def keys(self) -> nn.Parameter:
        """The memory keys κ [h, K, d]: the cluster centroids."""
        return self.pool.k

    def forward(self, queries: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        coarsened, assignment = self.pool(queries, mask=mask)
        return F.leaky_relu(coarsened), assignment


def target_distribution(assignment: Tensor) -> Tensor:
    r"""The sharpened target of Eq. 10,
    :math:`P_{ij} = \frac{C_{ij}^2 / f_j}{\sum_{j'} C_{ij'}^2 / f_{j'}}` with cluster
    frequency :math:`f_j = \sum_i C_{ij}` over the nodes of each molecule. [B, n, K] in and
    out; padding rows stay zero. Returned detached: P is a target, not a path for gradients.
    """
    assignment = assignment.detach()
    frequency = assignment.sum(dim=1, keepdim=True).clamp_min(1e-12)  # [B, 1, K]
    sharpened = assignment.pow(2) / frequency
    return sharpened / sharpened.sum(dim=-1, keepdim=True).clamp_min(1e-12)


def clustering_loss(assignment: Tensor, mask: Tensor | None = None) -> Tensor:
    r""":math:`\mathrm{KL}(P \Vert C) = \sum_i \sum_j P_{ij} \log(P_{ij}/C_{ij})` (Eq. 9),
    averaged over the real nodes of the batch. `assignment` C [B, n, K]; `mask` [B, n]."""
    target = target_distribution(assignment)
    per_node = (target * (target.clamp_min(1e-12).log() - assignment.clamp_min(1e-12).log())).sum(-1)  # [B, n]
    if mask is None:
        return per_node.mean()
    return per_node[mask].mean()
