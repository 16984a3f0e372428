"""A random forest stored as arrays predicts what scikit-learn's forest predicts, and
round-trips through safetensors (molapp.models.forest)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from molapp.models.forest import Forest


def molecules_like(rng, n: int) -> np.ndarray:
    """Continuous columns with ties and extremes (descriptor-like) and 0/1 columns (bits)."""
    continuous = rng.normal(size=(n, 6)) * np.array([1, 10, 1e3, 1e-3, 1, 1])
    continuous[:, 4] = np.round(continuous[:, 4], 1)  # many ties: thresholds fall between equal values
    bits = rng.integers(0, 2, size=(n, 10))
    return np.hstack([continuous, bits]).astype(np.float32)


@pytest.fixture()
def data():
    rng = np.random.default_rng(0)
    x_train, x_new = molecules_like(rng, 300), molecules_like(rng, 200)
    signal = x_train[:, 0] + x_train[:, 6] - 0.5 * x_train[:, 4]
    labels = np.stack([signal > 0.5, signal + rng.normal(size=300) > 1.5, x_train[:, 7] > 0], axis=1).astype(int)
    return x_train, x_new, labels, signal


def test_the_forest_predicts_what_scikit_learn_does_for_classifiers(data):
    x_train, x_new, labels, _ = data
    fitted = [RandomForestClassifier(20, max_features="sqrt", class_weight="balanced_subsample", random_state=k).fit(x_train, labels[:, k])
              for k in range(labels.shape[1])]
    expected = np.stack([forest.predict_proba(x_new)[:, 1] for forest in fitted], axis=1)
    forest = Forest.from_sklearn(fitted)
    got = forest(torch.from_numpy(x_new)).numpy()
    assert got.shape == (200, 3)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert 0 < expected.std()  # the molecules are not all scored alike


def test_the_forest_predicts_what_scikit_learn_does_for_regressors(data):
    x_train, x_new, _, signal = data
    fitted = [RandomForestRegressor(15, max_features=0.3, min_samples_leaf=3, random_state=1).fit(x_train, signal)]
    forest = Forest.from_sklearn(fitted)
    np.testing.assert_allclose(forest(torch.from_numpy(x_new)).numpy()[:, 0], fitted[0].predict(x_new), rtol=1e-5, atol=1e-5)


def test_thresholds_are_exact_for_inputs_on_either_side_of_a_split(data):
    """Inputs exactly at a split's float32 neighbours go where scikit-learn sends them, at a
    split whose float64 threshold rounds *up* to float32 (there the float32 value itself is
    above the threshold and goes right)."""
    x_train, _, labels, _ = data
    fitted = [RandomForestClassifier(1, bootstrap=False, random_state=5).fit(x_train, labels[:, 0])]
    tree = fitted[0].estimators_[0].tree_
    node = 0  # the root: every probe passes it
    assert np.float64(np.float32(tree.threshold[node])) > tree.threshold[node]
    at = np.float32(tree.threshold[node])
    probes = np.repeat(x_train[:3], 3, axis=0)
    probes[:, tree.feature[node]] = np.tile([np.nextafter(at, np.float32(-np.inf)), at, np.nextafter(at, np.float32(np.inf))], 3)
    np.testing.assert_allclose(Forest.from_sklearn(fitted)(torch.from_numpy(probes)).numpy()[:, 0],
                               fitted[0].predict_proba(probes)[:, 1], atol=1e-6)


def test_the_forest_round_trips_through_safetensors(data, tmp_path):
    x_train, x_new, labels, _ = data
    forest = Forest.from_sklearn([RandomForestClassifier(10, random_state=k).fit(x_train, labels[:, k]) for k in range(2)])
    save_file(forest.state_dict(), str(tmp_path / "weights.safetensors"))
    tensors = load_file(str(tmp_path / "weights.safetensors"))
    loaded = Forest(len(tensors["feature"]), len(tensors["roots"]), forest.trees_per_task, forest.depth)
    loaded.load_state_dict(tensors)
    assert torch.equal(loaded(torch.from_numpy(x_new)), forest(torch.from_numpy(x_new)))


def test_forests_of_unequal_size_are_refused(data):
    x_train, _, labels, _ = data
    with pytest.raises(ValueError, match="same number of trees"):
        Forest.from_sklearn([RandomForestClassifier(3).fit(x_train, labels[:, 0]), RandomForestClassifier(4).fit(x_train, labels[:, 1])])


def test_a_tree_too_large_for_its_offsets_is_refused_not_wrapped():
    """Right children are stored as int16 offsets: a tree of more than 32,767 nodes (one leaf
    per distinct noisy target here) would wrap around, so it is refused with what to do."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40_000, 3)).astype(np.float32)
    tree = RandomForestRegressor(1, bootstrap=False, random_state=0).fit(x, rng.normal(size=40_000))
    assert tree.estimators_[0].tree_.node_count > 32_767
    with pytest.raises(ValueError, match="larger leaves"):
        Forest.from_sklearn([tree])
