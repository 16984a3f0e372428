"""A random forest as arrays: scikit-learn's trees stored as tensors (weights.safetensors,
never a pickle) and evaluated on a batch in a few tensor operations.

One forest per task, each of `trees_per_task` trees. For a molecule x the task's score is
the mean of its trees' leaf values (scikit-learn's `predict_proba(x)[:, 1]` for a
classifier, `predict(x)` for a regressor):

    p_k(x) = 1/T Σ_t v_t(leaf_t(x)),   leaf_t(x): from the root, left while x[f_n] ≤ θ_n

All trees' nodes lie in one array in scikit-learn's depth-first order, where a split node's
left child is the next node, so only the right child is stored; a node is a split or a leaf,
so one array holds a split's threshold or a leaf's value (8 bytes a node in all). Shapes: N
nodes in all, R = tasks × trees_per_task roots, F input features, B molecules.

- `feature` [N] int16: the feature a split node reads, -1 at a leaf;
- `threshold` [N] float32: at a split, θ rounded down to float32, exact for float32 inputs
  (scikit-learn compares float32 features with float64 thresholds: x ≤ θ₆₄ ⟺ x ≤ the largest
  float32 ≤ θ₆₄); at a leaf, its value (the weighted share of actives, or the mean target);
- `right_offset` [N] int16: how far ahead the right child lies (0 at a leaf, which stays put;
  a tree has at most 32,767 nodes, which larger leaves keep to);
- `roots` [R] int64, task of root r = r // trees_per_task.

Evaluation walks every (molecule, tree) pair one level per step, `depth` steps in all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn


class Forest(nn.Module):
    def __init__(self, num_nodes: int, num_roots: int, trees_per_task: int, depth: int) -> None:
        super().__init__()
        self.trees_per_task, self.depth = trees_per_task, depth
        self.register_buffer("feature", torch.full((num_nodes,), -1, dtype=torch.int16))
        self.register_buffer("threshold", torch.zeros(num_nodes, dtype=torch.float32))
        self.register_buffer("right_offset", torch.zeros(num_nodes, dtype=torch.int16))
        self.register_buffer("roots", torch.zeros(num_roots, dtype=torch.int64))

    @property
    def num_tasks(self) -> int:
        return len(self.roots) // self.trees_per_task

    @classmethod
    def from_sklearn(cls, forests: Sequence) -> Forest:
        """One fitted RandomForestClassifier (two classes) or RandomForestRegressor per task,
        all with the same number of trees."""
        sizes = {len(forest.estimators_) for forest in forests}
        if len(sizes) != 1:
            raise ValueError(f"every task's forest needs the same number of trees, not {sorted(sizes)}")
        trees = [estimator.tree_ for forest in forests for estimator in forest.estimators_]
        feature, threshold, right_offset, roots = [], [], [], []
        offset = 0
        for tree in trees:
            nodes = np.arange(tree.node_count)
            split = tree.children_left >= 0
            if not np.array_equal(tree.children_left[split], nodes[split] + 1):
                raise ValueError("a tree whose left children do not follow their parents (not depth-first)")
            roots.append(offset)
            feature.append(np.where(split, tree.feature, -1))
            if tree.node_count > np.iinfo(np.int16).max:
                raise ValueError(f"a tree of {tree.node_count} nodes (at most {np.iinfo(np.int16).max}): fit with larger leaves")
            right_offset.append(np.where(split, tree.children_right - nodes, 0))
            leaf_values = tree.value[:, 0, :]
            if leaf_values.shape[1] == 2:  # classifier: the (weighted) share of the positive class
                leaf_values = leaf_values[:, 1] / leaf_values.sum(1)
            threshold.append(np.where(split, _floor_float32(tree.threshold), leaf_values.reshape(-1).astype(np.float32)))
            offset += tree.node_count
        if max(np.max(f) for f in feature) >= np.iinfo(np.int16).max:
            raise ValueError("more input features than an int16 can index")
        forest = cls(offset, len(trees), sizes.pop(), max(int(tree.max_depth) for tree in trees))
        forest.feature.copy_(torch.from_numpy(np.concatenate(feature).astype(np.int16)))
        forest.threshold.copy_(torch.from_numpy(np.concatenate(threshold)))
        forest.right_offset.copy_(torch.from_numpy(np.concatenate(right_offset).astype(np.int16)))
        forest.roots.copy_(torch.tensor(roots, dtype=torch.int64))
        return forest

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, F] → scores [B, tasks]."""
        x = x.to(torch.float32)
        node = self.roots.expand(len(x), -1)  # [B, R]
        feature, right_offset = self.feature.long(), self.right_offset.long()
        for _ in range(self.depth):
            read = feature[node]
            at_leaf = read < 0
            goes_left = x.gather(1, read.clamp(min=0)) <= self.threshold[node]
            node = torch.where(at_leaf, node, torch.where(goes_left, node + 1, node + right_offset[node]))
        leaf_values = self.threshold[node]  # [B, R]: at a leaf, its value
        return leaf_values.view(len(x), self.num_tasks, self.trees_per_task).mean(2)


def _floor_float32(threshold: np.ndarray) -> np.ndarray:
    """The largest float32 not above each float64 value."""
    rounded = threshold.astype(np.float32)
    too_high = rounded.astype(np.float64) > threshold
    rounded[too_high] = np.nextafter(rounded[too_high], np.float32(-np.inf))
    return rounded
