"""bench/descriptor_variants.py: each variant's runs land in the results files the study reads, and
the study committed is what those files give."""

from __future__ import annotations

import json
import shutil

import pytest

from bench import descriptor_variants as study
from molapp.cli import train as train_cli

from .conftest import FIXTURES

DATA = FIXTURES / "ladder"  # 60-row bbbp with its scaffold split
RESULTS = study.RESULTS


@pytest.mark.parametrize("variant", study.VARIANTS, ids=lambda v: v.label)
def test_a_variant_trains_into_the_results_file_the_study_reads(variant, tmp_path):
    """molapp.train names the results file from the card (benchmark_name); the study looks for that name."""
    flags = [*variant.flags.split(), "--hidden", "8", "--hops", "2"]  # the variant's own, then small sizes
    assert train_cli.main(["--dataset", "bbbp", "--data-dir", str(DATA), "--model", "graphmem", "--descriptors", *flags,
                           "--max-epochs", "1", "--patience", "1", "--threads", "1", "--workers", "1", "--split", "scaffold",
                           "--seed", "0", "--out", str(tmp_path / "run"), "--results-dir", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.glob("*.json")] == [f"{variant.results_name}-bbbp-scaffold-seed0.json"]


def _write_run(variant: study.Variant, split: str, seed: int, valid: float) -> None:
    path = variant.results_file(split, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"valid": valid, "test": valid - 0.02, "provenance": {"recorded": False}}))


def test_the_study_averages_the_runs_found_compares_the_choices_and_lists_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(study, "RESULTS", tmp_path)
    start, hidden = (next(v for v in study.VARIANTS if v.label == label) for label in ("start", "start, hidden 128"))
    for seed, valid in enumerate((0.80, 0.82, 0.84)):
        _write_run(start, "random", seed, valid)
    _write_run(hidden, "random", 0, 0.83)  # better than start's seed 0: the choice does not hold on it
    for variant in study.VARIANTS:  # the ensembles of the seeds, as committed
        for name in variant.ensembles:
            shutil.copy(RESULTS / name, tmp_path / name)
    assembled = study.assemble()

    means = {(m["variant"], m["split"]): m for m in assembled["means"]}
    assert set(means) == {("start", "random"), ("start, hidden 128", "random")}
    assert means["start", "random"]["seeds"] == [0, 1, 2] and means["start", "random"]["valid"] == pytest.approx(0.82)
    assert means["start", "random"]["test"] == pytest.approx(0.80)
    [ensemble] = means["start", "random"]["ensembles"]  # the random split's only: the scaffold one is not this row's
    assert ensemble["results"] == "ensemble-graphmem-balanced-tox21-random-ensemble.json" and ensemble["members"] == 4
    [choice] = assembled["decisions"]  # the only pair with runs on both sides
    assert (choice["kept"], choice["rival"], choice["seeds"]) == ("start", "start, hidden 128", [0])
    assert choice["kept_valid"] == pytest.approx(0.80) and choice["rival_valid"] == pytest.approx(0.83) and not choice["holds"]
    assert (choice["recorded_runs"], choice["runs"]) == (0, 2)  # neither file records its run
    assert not choice["within_noise"]  # one seed: no spread to call it noise
    expected_missing = len(study.runs()) - 4
    assert len(assembled["missing"]) == expected_missing
    assert start.command("random", 3) in assembled["missing"] and start.command("random", 0) not in assembled["missing"]
    assert all(r["results"].startswith("descriptor-variants/hidden128/") for r in assembled["runs"] if r["variant"] == "start, hidden 128")


def test_a_gap_smaller_than_the_seeds_spread_is_within_noise():
    rows = [{"variant": v, "split": "random", "seed": s, "valid": valid, "recorded": True}
            for v, values in (("a", (0.80, 0.84)), ("b", (0.83, 0.82))) for s, valid in enumerate(values)]
    choice = study.decision(rows, "random", "a", "b")
    assert choice["holds"] is False and choice["within_noise"] is True  # 0.82 vs 0.825; std of a: 0.028
    rows[1]["valid"] = 0.81  # a: 0.805, std 0.007 < the gap 0.02
    assert study.decision(rows, "random", "a", "b")["within_noise"] is False


def test_the_committed_study_is_what_the_results_files_give():
    committed = json.loads(study.STUDY.read_text())
    assembled = json.loads(json.dumps(study.assemble(), ensure_ascii=False))
    for record in (committed, assembled):
        record.pop("provenance")
    assert committed == assembled, "rerun `python bench/descriptor_variants.py assemble` and `make readme`"


def test_run_trains_only_the_runs_without_a_results_file(tmp_path, monkeypatch):
    monkeypatch.setattr(study, "RESULTS", tmp_path)
    start = study.VARIANTS[0]
    _write_run(start, "random", 0, 0.8)
    trained = []
    monkeypatch.setattr(study, "train", lambda variant, split, seed: trained.append((variant.label, split, seed)) or 0)
    assert study.run(jobs=2) == 0
    assert len(trained) == len(study.runs()) - 1 and ("start", "random", 0) not in trained and ("start", "random", 1) in trained
    monkeypatch.setattr(study, "train", lambda variant, split, seed: 1)  # a run that fails makes the command fail
    assert study.run(jobs=1) == 1
