"""The embedding map: where molecules sit among known compounds in the model's own
representation. A reference set (the checkpoint's dataset) is embedded by the model
(GraphMem: the final controller state h_T for one task query; MemGNN/GMN: the readout
node) and laid out in 2D by t-SNE (openTSNE) when the checkpoint is built; new molecules
are placed into that fitted map with openTSNE's `transform`, which moves only the new
points against the fixed reference.

Saved beside the checkpoint as `map.safetensors` (coordinates, embeddings, labels,
predictions, split) and `map.json` (IDs, SMILES, tasks, settings) — no pickle. The t-SNE
affinities `transform` needs are rebuilt from the stored embeddings on load. Embeddings
wider than `MAP_DIMENSIONS` are reduced by PCA before the layout (common practice for
t-SNE, and it keeps a 256-d model's map a few hundred kB instead of several MB); the
projection is stored with the map and applied to new molecules before they are placed. A model with
more than one embedding of a molecule (GraSeq: graph-only and sequence-only besides the
fused one) has one map per view, `map-<view>.*`, of the same molecules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

SPLITS = ["train", "valid", "test"]
PERPLEXITY = 30.0
MAP_DIMENSIONS = 64  # embeddings wider than this are PCA-reduced to it


@dataclass(frozen=True)
class Projection:
    """PCA of the reference embeddings, x ↦ (x − mean) · components: [m, H] → [m, k]."""

    mean: np.ndarray  # [H]
    components: np.ndarray  # [H, k], orthonormal columns, largest variance first

    @classmethod
    def fit(cls, embeddings: np.ndarray, dimensions: int = MAP_DIMENSIONS) -> Projection:
        mean = embeddings.mean(0)
        _, _, right = np.linalg.svd(embeddings - mean, full_matrices=False)
        # C order: safetensors writes the buffer as it lies, and a transpose is Fortran-ordered
        return cls(mean.astype(np.float32), np.ascontiguousarray(right[:dimensions].T, dtype=np.float32))

    def __call__(self, embeddings: np.ndarray) -> np.ndarray:
        return ((embeddings - self.mean) @ self.components).astype(np.float32)


def reduce_for_map(embeddings: np.ndarray) -> tuple[np.ndarray, Projection | None]:
    """The embeddings the map is laid out from, and the PCA that made them (None when the
    embedding is already no wider than `MAP_DIMENSIONS`)."""
    if embeddings.shape[1] <= MAP_DIMENSIONS:
        return embeddings, None
    projection = Projection.fit(embeddings)
    return projection(embeddings), projection


@dataclass
class EmbeddingMap:
    """`coordinates` [n, 2]; `embeddings` [n, k] (the model's, or their PCA `projection`);
    `labels`, `predictions` [n, T] (NaN: not measured); `split` [n] index into SPLITS;
    `query_task` the GraphMem task query whose h_T is the embedding (None for MemGNN/GMN)."""

    coordinates: np.ndarray
    embeddings: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    split: np.ndarray
    ids: list[str]
    smiles: list[str]
    tasks: list[str]
    query_task: str | None
    dataset: str
    perplexity: float = PERPLEXITY
    projection: Projection | None = None

    def __post_init__(self) -> None:
        self._fitted = None

    def save(self, directory: Path, view: str = "") -> None:
        arrays = {
            "coordinates": self.coordinates.astype(np.float32),
            "embeddings": self.embeddings.astype(np.float16),  # neighbours in the map need ~3 digits
            "labels": self.labels.astype(np.float16),
            "predictions": self.predictions.astype(np.float16),
            "split": self.split.astype(np.uint8),
        }
        if self.projection is not None:
            arrays |= {"projection_mean": self.projection.mean, "projection_components": self.projection.components}
        save_file(arrays, str(Path(directory) / f"{map_stem(view)}.safetensors"))
        meta = {"ids": self.ids, "smiles": self.smiles, "tasks": self.tasks, "query_task": self.query_task,
                "dataset": self.dataset, "perplexity": self.perplexity, "splits": SPLITS}
        (Path(directory) / f"{map_stem(view)}.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, directory: Path, view: str = "") -> EmbeddingMap:
        arrays = load_file(str(Path(directory) / f"{map_stem(view)}.safetensors"))
        meta = json.loads((Path(directory) / f"{map_stem(view)}.json").read_text())
        projection = Projection(arrays["projection_mean"], arrays["projection_components"]) if "projection_mean" in arrays else None
        return cls(arrays["coordinates"], arrays["embeddings"].astype(np.float32), arrays["labels"].astype(np.float32),
                   arrays["predictions"].astype(np.float32), arrays["split"].astype(np.int64), meta["ids"], meta["smiles"],
                   meta["tasks"], meta["query_task"], meta["dataset"], meta["perplexity"], projection)

    def source_datasets(self) -> np.ndarray:
        """[n] the dataset each molecule comes from (IDs are `<dataset>:<csv row>`)."""
        return np.array([i.split(":", 1)[0] for i in self.ids], dtype=object)

    @staticmethod
    def exists(directory: Path, view: str = "") -> bool:
        stem = Path(directory) / map_stem(view)
        return stem.with_suffix(".safetensors").exists() and stem.with_suffix(".json").exists()

    def _embedding(self):
        """The fitted openTSNE embedding, rebuilt once: affinities from the stored embeddings
        (exact neighbours, same perplexity), positions from the stored coordinates."""
        if self._fitted is None:
            from openTSNE import TSNEEmbedding
            from openTSNE.affinity import PerplexityBasedNN

            affinities = PerplexityBasedNN(self.embeddings, perplexity=self.perplexity, method="exact", random_state=0, n_jobs=1)
            self._fitted = TSNEEmbedding(self.coordinates.astype(np.float64), affinities, random_state=0)
        return self._fitted

    def place(self, embeddings: np.ndarray) -> np.ndarray:
        """Coordinates [m, 2] for new molecules' model embeddings [m, H], in this map."""
        if not len(embeddings):
            return np.zeros((0, 2), np.float32)
        reduced = self.projection(embeddings) if self.projection is not None else embeddings.astype(np.float32)
        return np.asarray(self._embedding().transform(reduced), dtype=np.float32)


def map_stem(view: str = "") -> str:
    """File name stem of a view's map: `map` for the model's own embedding, `map-<view>` else."""
    return f"map-{view}" if view else "map"


def fit_coordinates(embeddings: np.ndarray, perplexity: float = PERPLEXITY, seed: int = 0, workers: int = 2) -> np.ndarray:
    """t-SNE layout [n, 2] of the reference embeddings (openTSNE, exact neighbours so that
    `EmbeddingMap.place` rebuilds the same affinities)."""
    from openTSNE import TSNE

    tsne = TSNE(perplexity=perplexity, neighbors="exact", random_state=seed, n_jobs=workers)
    return np.asarray(tsne.fit(embeddings.astype(np.float32)), dtype=np.float32)


def outcome(labels: np.ndarray, probabilities: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """'TP', 'FP', 'TN', 'FN' per molecule for one classification task ('' when not measured)."""
    measured = ~np.isnan(labels)
    positive = labels >= 0.5
    called = probabilities >= threshold
    out = np.full(labels.shape, "", dtype=object)
    out[measured & positive & called] = "TP"
    out[measured & ~positive & called] = "FP"
    out[measured & ~positive & ~called] = "TN"
    out[measured & positive & ~called] = "FN"
    return out
