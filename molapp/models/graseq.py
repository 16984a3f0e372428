"""GraSeq (Guo et al., "GraSeq: Graph and Sequence Fusion Learning for Molecular Property
Prediction", CIKM 2020): a GraphSAGE encoder over the molecular graph, a BiLSTM over its
node states read in canonical-SMILES order, and task heads on the molecule's vector
(section 3), in the paper's four variants (section 4.3, Table 4):

* ``plain`` — GraSeq: graph encoder → sequence encoder → output layer; the molecule is the
  sequence encoder's readout, h_M = h_S. No fusion gate, no reconstruction.
* ``f`` — GraSeq-F: adds the fusion layer, h_M = F ⊙ h_G + (1 − F) ⊙ h_S (Eq. 4–5), so the
  graph readout h_G reaches the heads directly and the sequence encoder learns what it
  misses. The paper's best variant on BACE, BBBP, ToxCast and FDA.
* ``r`` — GraSeq-R: GraSeq plus the variational SMILES reconstruction from h_M as a
  self-supervised task (Eq. 6–11), trained with L = L_label + α L_vae (Eq. 13).
* ``rf`` — GraSeq-RF: both the fusion layer and the reconstruction.

and the single-reading models Table 4 compares them with:

* ``graph`` — GraphSAGE alone: h_M = h_G (no sequence encoder).
* ``sequence`` — the BiLSTM alone over the atoms in canonical-SMILES order (the paper's
  Seq2seq reads SMILES characters): its inputs are each atom's features, linearly
  embedded, with no message passing, so the molecule reaches it only as a sequence.

h_G and h_S are readouts of the node and sequence states (mean over the molecule's atoms;
the paper "concatenates all h_v and h_s", which needs a fixed atom count). The
reconstruction loss (`auxiliary_loss`) is computed in training mode only, unless asked for:
prediction never runs the decoder. The KL weight β of that loss is a forward argument, so
the trainer anneals it (the paper raises it by 2/epochs per epoch up to 1) and the model
holds no step state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.utils import scatter

from molapp.featurizers.graph import SMILES_VOCAB
from molapp.models.spec import Hyperparameter, ModelSpec, TrainingHooks, model_field
from molapp.nn.graseq import FusionGate, GraphEncoder, SequenceEncoder, VariationalSmilesDecoder

VARIANTS = ("plain", "f", "r", "rf", "graph", "sequence")
DEFAULT_VARIANT = "f"


@dataclass(frozen=True)
class GraSeqConfig:
    atom_dim: int
    num_tasks: int
    variant: str = DEFAULT_VARIANT  # "plain", "f" (fusion gate), "r" (reconstruction), "rf" (both); "graph", "sequence" (one reading)
    hidden: int = 64  # d: GraphSAGE output, h_G, h_S, h_M
    graph_layers: int = 3  # GraphSAGE layers K
    lstm_hidden: int = 32  # per direction; h_s is 2·lstm_hidden wide (projected to d if that differs)
    latent: int = 64  # z of the variational decoder (R variants)
    decoder_hidden: int = 64  # decoder LSTM state s_t (R variants)
    vocab_size: int = len(SMILES_VOCAB)
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {self.variant!r}")

    @property
    def fusion(self) -> bool:
        return self.variant in ("f", "rf")

    @property
    def reconstruction(self) -> bool:
        return self.variant in ("r", "rf")

    @property
    def reads_graph(self) -> bool:
        """Whether GraphSAGE passes messages (all but the sequence-only model)."""
        return self.variant != "sequence"

    @property
    def reads_sequence(self) -> bool:
        return self.variant != "graph"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GraSeqOutput:
    """`logits` [B, Q]: one output per molecule and queried task. `auxiliary_loss`: the
    reconstruction loss (cross-entropy + β·KL per token, Eq. 7) for the R variants in
    training mode, else a zero tensor; `reconstruction_loss` and `kl_loss` its two parts
    (detached, per token), None when it was not computed. When asked: `embedding` h_M
    [B, d]; with `return_fusion`, `graph_embedding` h_G [B, d], `sequence_embedding` h_S
    [B, d] and `gate` F [B, d] (None for the variants without the fusion layer; h_G or h_S
    None for the model without that reading)."""

    logits: Tensor
    auxiliary_loss: Tensor
    embedding: Tensor | None = None
    graph_embedding: Tensor | None = None
    sequence_embedding: Tensor | None = None
    gate: Tensor | None = None
    reconstruction_loss: Tensor | None = None
    kl_loss: Tensor | None = None


class GraSeq(nn.Module):
    r"""GraSeq: :math:`Y = \mathrm{MLP}(h_M)` (Eq. 12), with h_M from the graph and sequence
    encoders (and the fusion gate in the F variants); one output per task."""

    def __init__(self, config: GraSeqConfig) -> None:
        super().__init__()
        self.config = config
        d = config.hidden
        # The sequence-only model's tokens: each atom's features embedded alone.
        self.graph_encoder = GraphEncoder(config.atom_dim, d, config.graph_layers) if config.reads_graph else nn.Linear(config.atom_dim, d)
        self.sequence_encoder = SequenceEncoder(d, config.lstm_hidden) if config.reads_sequence else None
        encoder_size = 2 * config.lstm_hidden
        self.sequence_projection = (nn.Linear(encoder_size, d) if encoder_size != d else nn.Identity()) if config.reads_sequence else None
        self.fusion = FusionGate(d) if config.fusion else None
        self.decoder = (
            VariationalSmilesDecoder(d, encoder_size, config.decoder_hidden, config.latent, config.vocab_size) if config.reconstruction else None
        )
        # "All decoders are MLPs with one 64-unit hidden layer" (4.4).
        self.head = nn.Sequential(nn.Linear(d, d), nn.LeakyReLU(), nn.Dropout(config.dropout), nn.Linear(d, config.num_tasks))

    def forward(
        self,
        batch: Batch,
        task_ids: Tensor | None = None,
        return_embedding: bool = False,
        return_fusion: bool = False,
        kl_weight: float = 1.0,
        reconstruct: bool | None = None,
    ) -> GraSeqOutput:
        """`task_ids` [Q]: indices of the tasks asked for (default: all, in order).
        `kl_weight`: β, the KL term's weight in the reconstruction loss. `reconstruct`:
        run the decoder (R variants); default: in training mode only."""
        config = self.config
        if config.reads_graph:
            nodes = self.graph_encoder(batch.x, batch.edge_index, batch.edge_type)  # [N, d], Eq. 1–2
            graph = scatter(nodes, batch.batch, dim=0, dim_size=batch.num_graphs, reduce="mean")  # h_G [B, d]
        else:
            nodes, graph = self.graph_encoder(batch.x), None  # atom tokens [N, d]
        sequence = states = mask = None
        if config.reads_sequence:
            states, mask = self.sequence_encoder(nodes, batch.smiles_order, batch.batch)  # [B, n, 2·lstm], Eq. 3
            pooled = states.sum(1) / mask.sum(1, keepdim=True).clamp_min(1)
            sequence = self.sequence_projection(pooled)  # h_S [B, d]
        gate = None
        if self.fusion is not None:
            molecule, gate = self.fusion(graph, sequence)  # h_M, F: Eq. 4–5
        else:
            molecule = graph if sequence is None else sequence
        outputs = self.head(molecule)  # Eq. 12
        logits = outputs if task_ids is None else outputs.index_select(1, task_ids)

        auxiliary = molecule.new_zeros(())
        reconstruction = kl = None
        if self.decoder is not None and (self.training if reconstruct is None else reconstruct):
            auxiliary, reconstruction, kl, _ = self.decoder(molecule, states, mask, batch.smiles_tokens, kl_weight)
        return GraSeqOutput(
            logits=logits,
            auxiliary_loss=auxiliary,
            embedding=molecule if return_embedding else None,
            graph_embedding=graph if return_fusion else None,
            sequence_embedding=sequence if return_fusion else None,
            gate=gate if return_fusion else None,
            reconstruction_loss=reconstruction,
            kl_loss=kl,
        )


def kl_anneal_weight(epoch: int, config) -> float:
    """β of the KL term in epoch `epoch` (1-based): linear, reaching 1 after
    `kl_anneal_epochs` epochs (default half the run: the paper's rate of 2/epochs per epoch)."""
    epochs = config.kl_anneal_epochs or max(1, config.max_epochs // 2)
    return min(1.0, epoch / epochs)


class GraSeqTraining(TrainingHooks):
    """β annealed per epoch (the trainer adds the output's `auxiliary_loss`, weighted by
    `reconstruction_weight`: L = L_label + α·L_aux, Eq. 13)."""

    def forward_options(self, epoch: int, config) -> dict:
        return {"kl_weight": kl_anneal_weight(epoch, config)}


def summary(config: Mapping) -> str:
    variant = config["variant"]
    if variant == "graph":
        return f"GraphSAGE alone (GraSeq's graph reading) · hidden {config['hidden']} · ×{config['graph_layers']}"
    if variant == "sequence":
        return f"BiLSTM alone (GraSeq's sequence reading) · hidden {config['hidden']} · {config['lstm_hidden']}×2"
    name = "GraSeq" + ("" if variant == "plain" else "-" + variant.upper())
    return f"{name} · hidden {config['hidden']} · GraphSAGE ×{config['graph_layers']} · BiLSTM {config['lstm_hidden']}×2"


def variant_suffix(config: Mapping, hyperparameters: Mapping) -> str:
    """The benchmark name's suffix: none for GraSeq-F (molapp's GraSeq, the paper's best on
    BBBP), "-<variant>" for the others."""
    variant = config.get("variant", DEFAULT_VARIANT)
    return "" if variant == DEFAULT_VARIANT else f"-{variant}"


def embedding_views(config: Mapping) -> tuple[str, ...]:
    """The model's own embedding, and where it reads both, the graph's and the sequence's (paper Fig. 4)."""
    return ("", "graph", "sequence") if config.get("variant", DEFAULT_VARIANT) not in ("graph", "sequence") else ("",)


SPECS = (
    ModelSpec(
        "graseq", "GraSeq", rank=20, model_class=GraSeq, config_class=GraSeqConfig,
        hyperparameters=(
            model_field(GraSeqConfig, "hidden", "d: GraphSAGE output, h_G, h_S, h_M"),
            model_field(GraSeqConfig, "dropout"),
            model_field(GraSeqConfig, "variant", '"plain", "f" (fusion gate), "r" (SMILES reconstruction), "rf"; -F is the paper\'s best on BBBP; '
                        '"graph" or "sequence": one reading alone (Table 4\'s GraphSAGE and Seq2seq rows)', choices=VARIANTS),
            model_field(GraSeqConfig, "graph_layers", "GraphSAGE layers"),
            model_field(GraSeqConfig, "lstm_hidden", "BiLSTM width per direction"),
            Hyperparameter("reconstruction_weight", 1.0, "α of L = L_label + α·L_aux (GraSeq-R/-RF: reconstruction + β·KL)"),
            Hyperparameter("kl_anneal_epochs", 0, "KL weight β = min(1, epoch / this); 0: max_epochs / 2 (the paper's 2/epochs per epoch)"),
        ),
        summary=summary, embedding="fused graph and sequence embedding", explanation="fusion",
        explanation_outputs={"return_fusion": True}, ladder_flags=("--max-epochs", "100", "--patience", "20"),
        training_hooks=GraSeqTraining, ablation_suffix=variant_suffix, embedding_views=embedding_views,
    ),
)
