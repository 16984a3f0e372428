"""bench/nci60_multitask.py's summary: Table II from per-seed records, Fig. 3's per-assay
F1, and the verdict on the paper's joint-training claim."""

from __future__ import annotations

import json

import pytest

from bench.nci60_multitask import ASSAYS, summarize


def _record(directory, model, seed, f1, auc=0.8):
    record = {"model": model, "seed": seed, "micro_f1": f1, "macro_f1": f1, "mean_auc": auc, "f1": {a: f1 for a in ASSAYS}}
    (directory / f"nci60-{model}-random-seed{seed}.json").write_text(json.dumps(record))


def test_joint_ahead_on_every_assay_by_more_than_ten_percent_is_reproduced(tmp_path):
    for seed in (0, 1, 2):
        _record(tmp_path, "graphmem-joint", seed, 0.80 + 0.01 * seed)
        _record(tmp_path, "graphmem-separate", seed, 0.70)
    summary = summarize(tmp_path)
    assert summary["claim"]["verdict"] == "reproduced" and summary["claim"]["assays_improved"] == len(ASSAYS)
    assert summary["table_ii"]["graphmem-joint"]["micro_f1"] == pytest.approx({"mean": 0.81, "sd": 0.01, "seeds": 3})
    assert summary["table_ii"]["graphmem-joint"]["paper"]["micro_f1"] == 77.8
    assert (tmp_path / "nci60-table2-random.json").exists()


def test_joint_behind_is_not_reproduced_and_a_missing_family_is_not_tested(tmp_path):
    _record(tmp_path, "graphmem-joint", 0, 0.60)
    assert summarize(tmp_path)["claim"]["verdict"] == "not tested"
    _record(tmp_path, "graphmem-separate", 0, 0.65)
    claim = summarize(tmp_path)["claim"]
    assert claim["verdict"] == "not reproduced" and claim["assays_improved"] == 0
    assert "joint not better" in claim["summary"]


def test_the_readme_names_the_seed_best_on_valid_and_the_deployment_estimate(tmp_path, monkeypatch):
    import json

    from molapp.cli import readme_figures

    for seed, (valid, test) in enumerate([(0.84, 0.83), (0.86, 0.82), (0.85, 0.87)]):
        (tmp_path / f"nci60-graphmem-joint-random-seed{seed}.json").write_text(json.dumps({"seed": seed, "valid": valid, "test": test}))
    monkeypatch.setattr(readme_figures, "RESULTS", tmp_path)
    block = readme_figures.nci60_panels()
    assert "seed 1 (valid ROC-AUC 0.860, against 0.840, 0.850; its test ROC-AUC 0.820)" in block  # valid decides, not test
    assert "Deployment panel" not in block
    (tmp_path / "deployment-mt-graphmem-nci60_balanced-deployment.json").write_text(json.dumps({
        "checkpoint": "mt-graphmem-nci60_balanced-deployment", "members": [{"seed": 0}],
        "estimate": {"random": {"checkpoint": "mt-graphmem-nci60_balanced-random-seed0", "valid": 0.84, "test": 0.83}}}))
    block = readme_figures.nci60_panels()
    assert "1 member;" in block and "random-split run's (`mt-graphmem-nci60_balanced-random-seed0`" in block and "test 0.830" in block
