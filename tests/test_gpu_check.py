"""bench/gpu_check.py, as a dry run on the CPU (`--device cpu`: every step against the CPU
itself) on fixtures: parity of predictions and explanations, the predict CLI's throughput,
the stage timings and a training epoch all land in its results file, which the README's
GPU block reads. The real run needs a CUDA GPU, which CI does not have."""

from __future__ import annotations

import importlib.util
import json
import shutil

import pytest

from molapp.cli import readme_figures

from .conftest import FIXTURES, ROOT


def _load():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "bench" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_largest_difference_ignores_rows_both_left_empty_and_refuses_mismatches():
    import numpy as np

    check = _load()
    nan = float("nan")
    assert check.largest_difference(np.array([1.0, nan, 3.0]), np.array([1.5, nan, 2.0])) == 1.0
    assert check.largest_difference(None, None) is None
    with pytest.raises(AssertionError, match="different entries empty"):
        check.largest_difference(np.array([1.0, nan]), np.array([1.0, 2.0]))
    with pytest.raises(AssertionError, match="shapes differ"):
        check.largest_difference(np.zeros(2), np.zeros(3))


@pytest.mark.slow
def test_a_dry_run_records_every_step_and_feeds_the_readme_block(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "ladder", data)
    smiles = [line.split()[0] for line in (FIXTURES / "tiny_molecules.smi").read_text().splitlines() if line.strip()]
    (data / "hiv.csv").write_text("smiles,activity,HIV_active\n" + "".join(f"{s},CI,0\n" for s in ["C1CC", *smiles]))
    monkeypatch.setenv("MOLAPP_DATA", str(data))
    out = tmp_path / "results" / "gpu-check-cpu.json"
    out.parent.mkdir()
    assert _load().main(["--device", "cpu", "--checkpoints", "checkpoints/gmn-esol-random", "checkpoints/graphmem-bbbp-deployment",
                         "--throughput-checkpoints", "checkpoints/gmn-esol-random", "--n-parity", "6", "--n-throughput", "30",
                         "--n-stages", "12", "--train-models", "graphmem", "--train-dataset", "bbbp", "--train-epochs", "1",
                         "--commit", "abc123", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    gmn, graphmem = record["parity"]
    assert gmn["same_rows_failed"] and gmn["prediction"] == 0.0 and gmn["molecules"] == 6
    assert set(next(iter(gmn["explanation"].values()))) == {"values", "embedding", "assignments"}
    assert {"attention", "member_values", "descriptor_contributions"} <= set(next(iter(graphmem["explanation"].values())))
    (throughput,) = record["throughput"]
    assert throughput["rows_back"] == 30 and throughput["ok"] < 30  # the unreadable "C1CC" rows come back flagged
    (stage,) = record["stages"]
    assert stage["molecules"] == 12 and len(stage["model_only"]) == 2
    (trained,) = record["training"]
    assert trained["dataset"] == "bbbp" and trained["epochs"] == 1 and trained["seconds_per_epoch"][0] > 0
    assert record["provenance"]["commit"] == "abc123"

    monkeypatch.setattr(readme_figures, "RESULTS", out.parent)
    block = readme_figures.gpu_check()
    assert "2 checkpoints, every model kind (gmn, graphmem)" in block and "| 30 | gmn-esol-random | CPU" in block
    assert "Training** on bbbp's scaffold split" in block
    assert "What follows" not in block  # a CPU dry run has no GPU rate to project from


def test_the_readme_block_projects_from_the_gpu_rows_only(tmp_path, monkeypatch):
    row = {"checkpoint": "checkpoints/graphmem-tox21-scaffold", "molecules": 1_000_000}
    record = {"device": "NVIDIA X", "cpus": 16, "parity": [], "training": [],
              "throughput": [{**row, "device": "cuda", "seconds": 125.0, "molecules_per_second": 8_000},
                             {**row, "device": "cpu", "seconds": 100.0, "molecules_per_second": 10_000}],
              "stages": [{**row, "molecules": 40_000, "workers": 16, "featurize_molecules_per_second": 9_000,
                          "model_only": [{"batch_size": 512, "molecules_per_second": 40_000}, {"batch_size": 2048, "molecules_per_second": 45_000}]}]}
    (tmp_path / "gpu-check-x.json").write_text(json.dumps(record))
    monkeypatch.setattr(readme_figures, "RESULTS", tmp_path)
    block = readme_figures.gpu_check()
    # 10⁸ / 8,000 per second = 3.5 h (the CPU row's 10,000/s is not a GPU rate); 45,000 / 9,000 = 5 nodes
    assert "GPU rate measured (8,000/s" in block and "take 3.5 hours" in block and "graphmem-tox21-scaffold 5." in block
