"""GraphMem's layers (Pham et al., "Graph Memory Networks for Molecular Activity
Prediction", section III): the attentive read, the relational memory update, the
controller update, and the gated skip connection that both recurrences use.

Shapes: N atoms in the batch, B molecules, Q task queries, H hidden size, E directed
bonds, R relations (bond types). The memory is per query, [N, Q, H], because the
controller state written into it (Eq. 2, U_m h_t) depends on the query; before the first
write it is shared by all queries and held as [N, 1, H], which broadcasts. Nothing here
keeps state between calls.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import scatter, softmax


class GatedSkip(nn.Module):
    r"""Recurrent skip connection: :math:`z_t = \alpha \odot \tilde z_t + (1-\alpha) \odot z_{t-1}`,
    with the sigmoid gate :math:`\alpha = \sigma(W_\alpha z_{t-1} + b_\alpha)` learned
    (the highway form the paper cites). Shapes: any [..., H]; broadcasting allowed.
    """

    def forward(self, proposal: Tensor, previous: Tensor, gate_logits: Tensor) -> Tensor:
        return torch.lerp(previous, proposal, torch.sigmoid(gate_logits))  # one fused kernel


class AttentiveRead(nn.Module):
    r"""Content-based read of the memory by the controller:

    .. math::
        a^i_t = \tanh(W_a m^i_{t-1} + U_a h_{t-1}),\quad
        p^i_t = \operatorname{softmax}_i(v^\top a^i_t),\quad
        m_t = \sum_i p^i_t m^i_{t-1}

    the softmax taken over the atoms of each molecule, separately for each query.
    Computed as :math:`\operatorname{softmax}_i(2 v^\top \sigma(2 z))` with
    :math:`\tanh z = 2\sigma(2z) - 1`: the constant :math:`-v^\top 1` cancels in the softmax,
    so the weights are the same, and sigmoid is about three times cheaper than tanh on CPU.
    `memory_key` is :math:`W_a m_{t-1}` [N, Q|1, H] (computed with the other projections
    of the memory), `controller_key` is :math:`U_a h_{t-1}` [B, Q, H].
    Returns the read vector [B, Q, H] and the attention weights p [N, Q].
    """

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.score = nn.Linear(hidden, 1, bias=False)  # v

    def forward(self, memory: Tensor, memory_key: Tensor, controller_key: Tensor, batch: Tensor, num_graphs: int) -> tuple[Tensor, Tensor]:
        content = (memory_key + controller_key.index_select(0, batch)).mul_(2).sigmoid_()  # [N, Q, H]
        attention = softmax(2 * self.score(content).squeeze(-1), batch, num_nodes=num_graphs, dim=0)  # [N, Q]
        read = scatter(attention.unsqueeze(-1) * memory, batch, dim=0, dim_size=num_graphs, reduce="sum")
        return read, attention


class RelationalNeighbourhood(nn.Module):
    r"""The multi-relational neighbour context of Eq. 2–3,
    :math:`\sum_r V_r c^i_{tr}` with :math:`c^i_{tr} = \sum_{j \in N_r(i)} p_j [m^j_{t-1}, b_{ij}]`,
    using the paper's experimental choice of uniform :math:`p_j = 1/|N_r(i)|` (the mean).

    :math:`V_r [m_j, b_{ij}] = V^m_r m_j + V^b_r b_{ij}` splits the sum. The bond part does
    not change between hops and is computed once (`bond_context`). For the memory part,
    :math:`V^m_r = V^m \operatorname{diag}(s_r)` (an R-GCN-style factorization): relations
    scale the neighbours' memories elementwise and one product with :math:`V^m` follows,
    a quarter of the arithmetic of R full matrices on the per-query memory, the model's
    largest tensor.
    """

    def __init__(self, bond_dim: int, hidden: int, num_relations: int) -> None:
        super().__init__()
        self.num_relations = num_relations
        self.hidden = hidden
        self.bond_projection = nn.Linear(bond_dim, num_relations * hidden, bias=False)  # V^b_r, all r
        self.relation_scale = nn.Parameter(torch.ones(num_relations, hidden))  # s_r
        self.memory_projection = nn.Linear(hidden, hidden, bias=False)  # V^m

    @staticmethod
    def edge_weights(edge_index: Tensor, edge_type: Tensor, num_nodes: int, num_relations: int) -> Tensor:
        """p_j = 1/|N_r(i)| for every directed bond j→i of relation r. Shape [E]."""
        key = edge_index[1] * num_relations + edge_type
        counts = torch.bincount(key, minlength=num_nodes * num_relations).to(torch.float32)
        return counts[key].reciprocal()

    def bond_context(self, edge_attr: Tensor, edge_index: Tensor, edge_type: Tensor, weights: Tensor, num_nodes: int) -> Tensor:
        r""":math:`\sum_r V^b_r \sum_{j \in N_r(i)} p_j b_{ij}`: [N, 1, H]."""
        projected = self.bond_projection(edge_attr).view(-1, self.num_relations, self.hidden)
        per_edge = projected[torch.arange(edge_type.numel(), device=edge_type.device), edge_type] * weights.unsqueeze(-1)
        return scatter(per_edge, edge_index[1], dim=0, dim_size=num_nodes, reduce="sum").unsqueeze(1)

    def forward(self, memory: Tensor, edge_index: Tensor, edge_type: Tensor, weights: Tensor) -> Tensor:
        r"""memory [N, Q|1, H] → :math:`\sum_r V^m_r \sum_{j \in N_r(i)} p_j m_j`, [N, Q|1, H]."""
        source, target = edge_index
        edge_scale = self.relation_scale.index_select(0, edge_type) * weights.unsqueeze(-1)  # [E, H]
        messages = memory.index_select(0, source).mul_(edge_scale.unsqueeze(1))  # [E, Q|1, H]
        aggregated = scatter(messages, target, dim=0, dim_size=memory.shape[0], reduce="sum")
        return self.memory_projection(aggregated)


class GraphMemHop(nn.Module):
    r"""One reasoning step t of GraphMem: read, controller update, memory update.

    .. math::
        \tilde h_t = g(W_h h_{t-1} + U_h m_t)  \quad (1) \\
        \tilde m^i_t = g(W_m m^i_{t-1} + U_m h_t + \textstyle\sum_r V_r c^i_{tr})  \quad (2)

    each followed by the gated skip connection; g = ReLU. The three maps of the memory
    (W_a for reading, W_m, the memory gate) share one matrix product, as do the three of
    the controller (U_a, W_h, its gate). The memory written by the last hop is never read,
    so that hop runs with `write_memory=False`: read and controller update only.
    Inputs: memory [N, Q|1, H], controller [B, Q, H], bond context [N, 1, H].
    Returns the new memory [N, Q, H] (the input memory when not written), controller
    [B, Q, H] and attention p_t [N, Q].
    """

    def __init__(self, hidden: int, bond_dim: int, num_relations: int) -> None:
        super().__init__()
        self.memory_projection = nn.Linear(hidden, 3 * hidden)  # [W_a | W_m | W_gate_m] m_{t-1}
        self.controller_projection = nn.Linear(hidden, 3 * hidden)  # [U_a | W_h | W_gate_h] h_{t-1}
        self.read_projection = nn.Linear(hidden, hidden, bias=False)  # U_h
        self.write_projection = nn.Linear(hidden, hidden, bias=False)  # U_m
        self.read = AttentiveRead(hidden)
        self.neighbourhood = RelationalNeighbourhood(bond_dim, hidden, num_relations)
        self.skip = GatedSkip()

    def forward(
        self,
        memory: Tensor,
        controller: Tensor,
        bond_context: Tensor,
        edge_index: Tensor,
        edge_type: Tensor,
        edge_weights: Tensor,
        batch: Tensor,
        num_graphs: int,
        write_memory: bool = True,
    ) -> tuple[Tensor, Tensor, Tensor]:
        hidden = controller.shape[-1]
        if write_memory:
            memory_key, memory_self, memory_gate = self.memory_projection(memory).chunk(3, dim=-1)
        else:  # only W_a m, the read's key
            memory_key = F.linear(memory, self.memory_projection.weight[:hidden], self.memory_projection.bias[:hidden])
        controller_key, controller_self, controller_gate = self.controller_projection(controller).chunk(3, dim=-1)

        read, attention = self.read(memory, memory_key, controller_key, batch, num_graphs)
        controller_proposal = torch.relu(controller_self + self.read_projection(read))
        controller = self.skip(controller_proposal, controller, controller_gate)
        if not write_memory:
            return memory, controller, attention

        context = self.neighbourhood(memory, edge_index, edge_type, edge_weights)
        written = self.write_projection(controller).index_select(0, batch)  # U_m h_t, to each atom
        memory_proposal = (memory_self + written).add_(context).add_(bond_context).relu_()
        memory = self.skip(memory_proposal, memory, memory_gate)
        return memory, controller, attention
