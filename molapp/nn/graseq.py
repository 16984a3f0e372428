"""The layers of GraSeq (Guo et al., "GraSeq: Graph and Sequence Fusion Learning for
Molecular Property Prediction", CIKM 2020, section 3): a GraphSAGE graph encoder
(Eq. 1–2), a BiLSTM sequence encoder over the atoms in SMILES order (Eq. 3), the fusion
gate (Eq. 4–5) and the variational SMILES decoder with attention (Eq. 6–11, the ELBO of
Eq. 7).

Shapes: N atoms in the batch, E directed bonds, B molecules, n atoms of the largest
molecule (padded, with a mask), d hidden size, T token positions (padded), V vocabulary
size, z latent size. Nothing here keeps state between calls.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch_geometric.utils import scatter, to_dense_batch

from molapp.featurizers.graph import PAD_ID

# w_uv of Eq. 1 per relation (edge_type: single, double, triple, aromatic): the bond order.
# The paper adds a double bond twice and a triple bond three times to the graph (4.1), so a
# mean over that multigraph weighs each neighbour by its bond order; aromatic counts 1.5.
BOND_ORDER_WEIGHTS = (1.0, 2.0, 3.0, 1.5)


class GraphSAGELayer(nn.Module):
    r"""One GraphSAGE layer (Eq. 1–2) on bond-order-weighted neighbours, L2-normalized:

    .. math::
        h_{N(v)} = \frac{\sum_{u\in N(v)} w_{uv} h_u}{\sum_{u\in N(v)} w_{uv}}\quad\text{(Eq. 1, weighted mean)}

        h_v' = \sigma\big(W\,[h_v \Vert h_{N(v)}]\big),\qquad h_v' \leftarrow h_v' / \lVert h_v' \rVert_2
        \quad\text{(Eq. 2, σ = LeakyReLU)}

    Not `torch_geometric.nn.SAGEConv(normalize=True)`: that layer computes the same
    W[h_v ‖ h_N(v)] (as lin_r(h_v) + lin_l(mean)), but its `normalize` divides by the norm
    *before* the activation, which is applied outside it (the paper normalizes σ(·)), and its
    mean aggregation takes no edge weights w_uv. An atom without bonds aggregates zeros.

    Input: h [N, d_in], edge_index [2, E], edge_weight [E]. Output: [N, d_out], unit rows.
    """

    def __init__(self, in_size: int, out_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(2 * in_size, out_size)

    def forward(self, h: Tensor, edge_index: Tensor, edge_weight: Tensor) -> Tensor:
        source, target = edge_index
        weighted = scatter(h[source] * edge_weight.unsqueeze(-1), target, dim=0, dim_size=h.shape[0], reduce="sum")
        total = scatter(edge_weight, target, dim=0, dim_size=h.shape[0], reduce="sum").clamp_min(1e-12)
        neighbourhood = weighted / total.unsqueeze(-1)  # Eq. 1
        return F.normalize(F.leaky_relu(self.linear(torch.cat([h, neighbourhood], dim=-1))), p=2.0, dim=-1)  # Eq. 2


class GraphEncoder(nn.Module):
    r"""Component 1: :math:`h_v^{(0)} = W_0 X_v`, then K GraphSAGE layers (Eq. 1–2).

    The paper starts each atom at a learned 64-d embedding of its type; here the input is
    the atom's one-hot feature vector (element, degree, charge, …), and W₀ plays the
    embedding's part (for the element block alone it is exactly an embedding table).

    Input: x [N, atom_dim], edge_index [2, E], edge_type [E]. Output: node states h_v
    [N, d] (unit L2 norm).
    """

    def __init__(self, atom_dim: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.embed = nn.Linear(atom_dim, hidden)
        self.layers = nn.ModuleList(GraphSAGELayer(hidden, hidden) for _ in range(layers))
        self.register_buffer("bond_weights", torch.tensor(BOND_ORDER_WEIGHTS), persistent=False)

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Tensor) -> Tensor:
        h = self.embed(x)
        weight = self.bond_weights[edge_type]
        for layer in self.layers:
            h = layer(h, edge_index, weight)
        return h


class SequenceEncoder(nn.Module):
    r"""Component 2: a BiLSTM over the graph encoder's node states read in canonical-SMILES
    order, :math:`s = \psi(v)` (Eq. 3):

    .. math:: h_s = [\overrightarrow{\mathrm{LSTM}}(\psi(h_v)) \oplus \overleftarrow{\mathrm{LSTM}}(\psi(h_v))]

    ψ is `smiles_order` (global atom indices, molecules contiguous): h[smiles_order] lists
    each molecule's atoms as its SMILES writes them. Padding is packed away, so a molecule's
    states do not depend on the others in its batch.

    Input: h [N, d], smiles_order [N], batch [N]. Output: h_s [B, n, 2·d_lstm] (zero on
    padding) and the mask [B, n].
    """

    def __init__(self, in_size: int, lstm_size: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(in_size, lstm_size, batch_first=True, bidirectional=True)

    def forward(self, h: Tensor, smiles_order: Tensor, batch: Tensor) -> tuple[Tensor, Tensor]:
        sequence, mask = to_dense_batch(h[smiles_order], batch[smiles_order])  # [B, n, d]
        lengths = mask.sum(1).cpu()
        packed = pack_padded_sequence(sequence, lengths, batch_first=True, enforce_sorted=False)
        states, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=sequence.shape[1])
        return states, mask


class FusionGate(nn.Module):
    r"""Component 3, the dimension-wise fusion gate (Eq. 4–5):

    .. math::
        F = \mathrm{sigmoid}(W_1 h_G + W_2 h_S + b),\qquad h_M = F \odot h_G + (1 - F) \odot h_S

    Input: h_G [B, d], h_S [B, d]. Output: h_M [B, d] and F [B, d] (each entry in (0, 1)).
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.graph = nn.Linear(size, size)  # W₁ and b
        self.sequence = nn.Linear(size, size, bias=False)  # W₂

    def forward(self, graph: Tensor, sequence: Tensor) -> tuple[Tensor, Tensor]:
        gate = torch.sigmoid(self.graph(graph) + self.sequence(sequence))  # Eq. 4
        return gate * graph + (1 - gate) * sequence, gate  # Eq. 5


class Maxout(nn.Module):
    """The maxout hidden layer before the decoder's softmax (3.5): k linear pieces, their
    maximum. [.., d_in] → [.., d_out]."""

    def __init__(self, in_size: int, out_size: int, pieces: int = 2) -> None:
        super().__init__()
        self.pieces = pieces
        self.linear = nn.Linear(in_size, out_size * pieces)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x).unflatten(-1, (-1, self.pieces)).amax(-1)


class Attention(nn.Module):
    r"""Additive attention of the decoder over the encoder states (Eq. 9–10):

    .. math::
        e_{ti} = v_a^\top \tanh(W_s s_{t-1} + W_h h_i),\qquad
        \alpha_{ti} = \frac{\exp e_{ti}}{\sum_{i'} \exp e_{ti'}},\qquad c_t = \sum_i \alpha_{ti} h_i

    `project` (W_h h_i) is computed once per batch. Input: s_{t-1} [B, d_s], projected
    encoder states [B, n, d_a], encoder states [B, n, d_h], mask [B, n]. Output: c_t
    [B, d_h] and α_t [B, n] (zero on padding).
    """

    def __init__(self, state_size: int, encoder_size: int, attention_size: int) -> None:
        super().__init__()
        self.state = nn.Linear(state_size, attention_size, bias=False)  # W_s
        self.encoder = nn.Linear(encoder_size, attention_size)  # W_h (and a bias)
        self.score = nn.Linear(attention_size, 1, bias=False)  # v_a

    def project(self, encoder_states: Tensor) -> Tensor:
        return self.encoder(encoder_states)

    def forward(self, state: Tensor, projected: Tensor, encoder_states: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        scores = self.score(torch.tanh(self.state(state).unsqueeze(1) + projected)).squeeze(-1)  # [B, n], Eq. 9
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)  # Eq. 10
        return torch.bmm(weights.unsqueeze(1), encoder_states).squeeze(1), weights


class VariationalSmilesDecoder(nn.Module):
    r"""Component 4, the reconstruction layer: neural variational inference on the
    molecule's representation h_M and an attentive LSTM decoder of its canonical SMILES.

    .. math::
        \mu = W_\mu h_M,\quad \log\sigma^2 = W_\sigma h_M,\quad z = \mu + \sigma \odot \epsilon,\ \epsilon\sim\mathcal N(0, I)

        s_0 = \tanh(W_z z),\qquad c_t = \mathrm{Attn}(s_{t-1}, \{h_i\})\quad\text{(Eq. 9–10)}

        s_t = \mathrm{LSTM}(s_{t-1}, [y_{t-1} \Vert c_t])\quad\text{(Eq. 8)},\qquad
        p(\hat s_t \mid \hat s_{<t}) = \mathrm{softmax}(W_{out}\,\mathrm{maxout}(s_t) + b)\quad\text{(Eq. 11)}

        \mathcal L_{vae} = -\mathbb E_{q(z|S)}[\log p(\hat S \mid z)] + \beta\, D_{KL}(q(z|S)\,\Vert\,\mathcal N(0, I))
        \quad\text{(the negative ELBO of Eq. 7)}

    Eq. 8 writes the context fed with y_{t-1} as c_{t-1}, while Eq. 9 builds the context
    from s_{t-1}; read as in Bahdanau et al. (the paper's reference for this attention), the
    context computed from s_{t-1} enters step t. The decoder's first state comes from z (the
    paper starts it from the encoder's last state; with the variational layer, z is what
    carries h_M). Teacher forcing: the inputs are the true tokens <start> … (T−1), the
    targets the tokens 1 … <end>. In eval mode z = μ (no sampling), so the loss is
    deterministic.

    The target is the canonical SMILES's tokens (atoms, bonds, branches, ring closures),
    where the paper's vocabulary is the atoms alone: the SMILES is what the molecule's
    sequence S is, and its syntax is what the graph encoder cannot see.

    The loss is per token: (Σ_tokens cross-entropy + β · Σ_molecules KL) / number of target
    tokens in the batch — the negative ELBO of the batch, scaled to sit beside the label
    loss. Input: h_M [B, d], encoder states [B, n, d_h] and mask [B, n], tokens [B, T]
    (0-padded), lengths [B]. Output: the loss (scalar), reconstruction cross-entropy
    and KL (each per token, detached for logging) and the token logits [B, T−1, V].
    """

    def __init__(self, input_size: int, encoder_size: int, hidden: int, latent: int, vocab_size: int) -> None:
        super().__init__()
        self.mu = nn.Linear(input_size, latent)
        self.log_variance = nn.Linear(input_size, latent)
        self.initial_state = nn.Linear(latent, hidden)
        self.embed = nn.Embedding(vocab_size, hidden, padding_idx=PAD_ID)
        self.attention = Attention(hidden, encoder_size, hidden)
        self.cell = nn.LSTMCell(hidden + encoder_size, hidden)
        self.maxout = Maxout(hidden, hidden)
        self.output = nn.Linear(hidden, vocab_size)

    def forward(self, molecule: Tensor, encoder_states: Tensor, mask: Tensor, tokens: Tensor, kl_weight: float = 1.0) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        mu, log_variance = self.mu(molecule), self.log_variance(molecule).clamp(-10.0, 10.0)
        z = mu + torch.exp(0.5 * log_variance) * torch.randn_like(mu) if self.training else mu
        kl = -0.5 * (1 + log_variance - mu.pow(2) - log_variance.exp()).sum(-1)  # [B]

        inputs, targets = tokens[:, :-1], tokens[:, 1:]  # teacher forcing
        embedded = self.embed(inputs)  # [B, T-1, d]
        projected = self.attention.project(encoder_states)
        state = torch.tanh(self.initial_state(z))
        cell = torch.zeros_like(state)
        states = []
        for t in range(inputs.shape[1]):
            context, _ = self.attention(state, projected, encoder_states, mask)  # c_t from s_{t-1}
            state, cell = self.cell(torch.cat([embedded[:, t], context], dim=-1), (state, cell))  # Eq. 8
            states.append(state)
        logits = self.output(self.maxout(torch.stack(states, dim=1)))  # [B, T-1, V], Eq. 11
        cross_entropy = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=PAD_ID, reduction="sum")
        count = (targets != PAD_ID).sum().clamp_min(1)
        loss = (cross_entropy + kl_weight * kl.sum()) / count
        return loss, (cross_entropy / count).detach(), (kl.sum() / count).detach(), logits
