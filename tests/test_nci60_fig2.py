"""bench/nci60_fig2.py: the sets of assays the GraphMem paper's Fig. 2 curves need, how each
is trained, and the verdict on its claim from per-seed curves."""

from __future__ import annotations

import json
import statistics

import pytest

from bench.nci60_fig2 import ORDERS, SHORT, TABLE_II_WORK, WORK, model_dir, record_path, score, summarize, train_command, training_sets


def test_every_prefix_of_every_order_is_trained_once():
    sets = training_sets()
    assert len(sets) == len(set(sets)) == 11  # 3 singles, 2 pairs with AIDS, then the shared sets of 3 to 8
    for order in ORDERS.values():
        assert len(order) == 8 and all(tuple(sorted(order[:k], key=list(SHORT).index)) in sets for k in range(1, 9))


def test_each_set_is_trained_in_table_iis_setting_from_the_datasets_that_hold_its_assays():
    assert model_dir(("AID83",), 1) == TABLE_II_WORK / "graphmem-nci60-AID83-random-seed1"  # Table II's separate run, reused
    assert model_dir(("HIV_active",), 0).parent == WORK
    alone = train_command(("HIV_active",), 0)
    assert alone[alone.index("--dataset") + 1] == "aids_balanced" and alone[alone.index("--model") + 1] == "graphmem"
    joint = train_command(("HIV_active", "AID83", "AID81"), 2)
    assert joint[joint.index("--dataset") + 1] == "nci60_balanced,aids_balanced" and joint[joint.index("--model") + 1] == "mt-graphmem"
    assert joint[joint.index("--targets") + 1: joint.index("--model")] == ["HIV_active", "AID83", "AID81"]
    assert joint[joint.index("--hops") + 1] == "10" and joint[joint.index("--positive-weighting") + 1] == "unweighted"
    assert joint[-1].endswith("graphmem-aids+breast+colon-random-seed2")


def _seed(directory, seed, curves):
    record = {"seed": seed, "curves": {name: [{"tasks": k + 1, "f1": f1} for k, f1 in enumerate(points)] for name, points in curves.items()}}
    (directory / f"nci60-fig2-random-seed{seed}.json").write_text(json.dumps(record))


def test_a_dip_when_aids_joins_then_a_rise_with_aids_flat_is_reproduced(tmp_path):
    dip_then_rise = [0.70, 0.66, 0.72, 0.74, 0.75, 0.76, 0.76, 0.75]
    for seed in (0, 1, 2):
        _seed(tmp_path, seed, {"breast": dip_then_rise, "colon": dip_then_rise, "aids": [0.80] + [0.79] * 7})
    summary = summarize(tmp_path)
    assert summary["claim"]["verdict"] == "reproduced" and summary["claim"]["seeds_in_words"] == "3 seeds"
    assert summary["f1"]["breast"][1] == pytest.approx({"tasks": 2, "added": "aids", "mean": 0.66, "sd": 0.0, "seeds": 3})
    assert (tmp_path / "nci60-fig2-random.json").exists()


def test_no_dip_and_a_gain_on_aids_is_partly_reproduced_and_no_seed_is_not_tested(tmp_path):
    assert summarize(tmp_path)["claim"]["verdict"] == "not tested"
    rising = [0.70, 0.72, 0.74, 0.75, 0.76, 0.77, 0.78, 0.78]
    for seed in (0, 1, 2):
        _seed(tmp_path, seed, {"breast": rising, "colon": rising, "aids": [0.70] + [0.80] * 7})
    claim = summarize(tmp_path)["claim"]
    assert claim["verdict"] == "partly reproduced" and claim["falls_when_aids_joins"] == {"breast": False, "colon": False}
    assert claim["rises_as_more_join"] == {"breast": True, "colon": True} and not claim["aids_not_raised"]
    assert claim["summary"].endswith("Held on the means: breast rises as more join (in 3 of 3 seeds), colon rises as more join "
                                     "(in 3 of 3 seeds); not held: breast falls when AIDS joins (in 0 of 3 seeds), colon falls "
                                     "when AIDS joins (in 0 of 3 seeds), AIDS not raised (in 0 of 3 seeds); a seed count applies "
                                     "the same test to that seed's curve alone")


def test_a_fall_on_the_means_that_one_seed_lacks_is_held_and_says_in_how_many_seeds(tmp_path):
    """The verdict reads the means; a seed whose breast F1 does not fall when AIDS joins is
    counted, so the reader sees the fall holds in 2 of 3 seeds."""
    dip_then_rise, rise = [0.70, 0.60, 0.72, 0.74, 0.75, 0.76, 0.76, 0.75], [0.70, 0.71, 0.72, 0.74, 0.75, 0.76, 0.76, 0.75]
    for seed, breast in ((0, rise), (1, dip_then_rise), (2, dip_then_rise)):
        _seed(tmp_path, seed, {"breast": breast, "colon": dip_then_rise, "aids": [0.80] + [0.79] * 7})
    claim = summarize(tmp_path)["claim"]
    assert claim["verdict"] == "reproduced"
    assert claim["seeds_holding_each_part"] == {"breast falls when AIDS joins": 2, "colon falls when AIDS joins": 3,
                                                "breast rises as more join": 3, "colon rises as more join": 3, "AIDS not raised": 3}
    assert "Held on the means: breast falls when AIDS joins (in 2 of 3 seeds), colon falls when AIDS joins (in 3 of 3 seeds)," in claim["summary"]


def _table_ii(directory, seed):
    table_ii = {"training_commands": [f"python -m molapp.train --dataset nci60_balanced --targets {a} --model graphmem" for a in ("AID83", "AID81")],
                "f1": {"AID83": 0.70, "AID81": 0.60}, "auc": {"AID83": 0.77, "AID81": 0.70}}
    (directory / f"nci60-graphmem-separate-random-seed{seed}.json").write_text(json.dumps(table_ii))


def _record(directory, members, seed, f1_per_task=0.01):
    """A model's record: F1 of each tracked assay 0.5 plus `f1_per_task` per task trained with it."""
    path = record_path(members, seed, directory)
    path.parent.mkdir(exist_ok=True)
    f1 = {a: 0.5 + f1_per_task * len(members) for a in members if a in ORDERS}
    path.write_text(json.dumps({"f1": f1, "auc": f1, "training_command": f"train {'+'.join(members)}", "train_seconds": 10.0}))


def _joint_sets(seed, directory):
    return [members for members in training_sets() if record_path(members, seed, directory).parent.name == "nci60-fig2"]


def test_a_seed_is_scored_from_committed_records_once_all_are_there(tmp_path):
    """Curves come from each model's record (Table II's per-seed file for breast or colon alone),
    so a seed is scored on any machine; a seed with a record missing is left unscored."""
    seed = 1
    _table_ii(tmp_path, seed)
    joint = _joint_sets(seed, tmp_path)
    assert len(joint) == 9
    for members in joint:
        if members == joint[-1]:
            assert score([seed], tmp_path) == []  # one record still missing
        _record(tmp_path, members, seed)
    assert score([seed], tmp_path) == [tmp_path / "nci60-fig2-random-seed1.json"]
    written = json.loads((tmp_path / "nci60-fig2-random-seed1.json").read_text())
    assert [p["f1"] for p in written["curves"]["breast"]] == pytest.approx([0.70] + [0.5 + 0.01 * k for k in range(2, 9)])
    assert [p["f1"] for p in written["curves"]["aids"]] == pytest.approx([0.5 + 0.01 * k for k in range(1, 9)])
    assert written["training_commands"][model_dir(("AID81",), seed).name].endswith("--targets AID81 --model graphmem")
    assert written["train_seconds_of_its_own_models"] == 90.0


def test_seeds_still_training_count_at_the_points_every_seed_has_and_the_verdict_waits_for_three(tmp_path):
    """Seed 0 complete, seeds 1 and 2 with their models of up to 4 tasks recorded: the curves are
    the three seeds' means at the first 4 points, and the claim reads "not tested" with the
    reading so far and each seed's progress."""
    dip_then_rise = [0.70, 0.66, 0.72, 0.74, 0.75, 0.76, 0.76, 0.75]
    _seed(tmp_path, 0, {"breast": dip_then_rise, "colon": dip_then_rise, "aids": [0.80] + [0.79] * 7})
    for seed in (1, 2):
        _table_ii(tmp_path, seed)
        for members in _joint_sets(seed, tmp_path):
            if len(members) <= 4:
                _record(tmp_path, members, seed, f1_per_task=0.1 * seed)
    summary = summarize(tmp_path)
    assert [len(points) for points in summary["f1"].values()] == [4, 4, 4]
    # breast with 4 tasks: seed 0 0.74; seeds 1 and 2 0.5 + 0.1·seed·4
    assert summary["f1"]["breast"][3] == pytest.approx({"tasks": 4, "added": "leukemia", "mean": statistics.mean([0.74, 0.9, 1.3]),
                                                        "sd": statistics.stdev([0.74, 0.9, 1.3]), "seeds": 3})
    claim = summary["claim"]
    assert claim["verdict"] == "not tested" and claim["reading_so_far"] in ("reproduced", "partly reproduced", "not reproduced")
    assert claim["seeds_in_words"] == ("3 seeds, curves to 4 of 8 tasks so far; seed 1: 7 of 11 models recorded, "
                                       "seed 2: 7 of 11 models recorded")
    assert claim["summary"].startswith(f"So far (it would read {claim['reading_so_far']}): breast:")
    assert summary["files"][0] == "bench/results/nci60-fig2-random-seed0.json"
    assert "graphmem-aids+breast+colon+leukemia-random-seed2.json" in summary["files"]
    assert not any("lung" in f for f in summary["files"])
