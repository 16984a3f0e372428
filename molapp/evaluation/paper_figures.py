"""Figures the method papers in `../shared/seeds/` report on the MoleculeNet datasets, to set
beside ours. Their splits are their own (the same kind, not the same rows), so a figure
here is context, not a like-for-like comparison. The GraphMem paper reports only NCI
bioassays (F1, mean AUC over nine screens) and has no MoleculeNet figure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperFigure:
    model: str  # our model name for the method (results-file `model`)
    dataset: str
    split: str
    value: float
    source: str


PAPER_FIGURES: list[PaperFigure] = [
    # Khasahmadi et al. 2020 (MemGNN): Table 2 is ROC-AUC on BACE and Tox21, Table 3 RMSE on ESOL and Lipophilicity.
    PaperFigure("memgnn", "esol", "random", 0.54, "MemGNN paper, Table 3"),
    PaperFigure("memgnn", "lipophilicity", "random", 0.556, "MemGNN paper, Table 3"),
    PaperFigure("memgnn", "bace", "scaffold", 0.907, "MemGNN paper, Table 2"),
    PaperFigure("memgnn", "tox21", "random", 0.828, "MemGNN paper, Table 2"),
    # Guo et al. 2020 (GraSeq), Tables 1, 2 and 4: BACE and BBBP scaffold, Tox21 random.
    PaperFigure("graseq", "bace", "scaffold", 0.8382, "GraSeq paper, Table 2 (GraSeq-F)"),
    PaperFigure("graseq", "bbbp", "scaffold", 0.9426, "GraSeq paper, Table 2 (GraSeq-F)"),
    PaperFigure("graseq", "tox21", "random", 0.8195, "GraSeq paper, Table 2 (GraSeq-R)"),
    PaperFigure("gcn", "bace", "scaffold", 0.7003, "GraSeq paper, Table 2 (GCN baseline)"),
    PaperFigure("gcn", "bbbp", "scaffold", 0.8123, "GraSeq paper, Table 2 (GCN baseline)"),
    PaperFigure("gcn", "tox21", "random", 0.7320, "GraSeq paper, Table 2 (GCN baseline)"),
]


def paper_figures(dataset: str, split: str) -> dict[str, PaperFigure]:
    """{model: figure} the papers report for this dataset and kind of split."""
    return {f.model: f for f in PAPER_FIGURES if f.dataset == dataset and f.split == split}
