"""Figures carry where they came from: every results file has a provenance block that
says how it was made or that it was not recorded (then, from git, the commit its content
landed in and, where known without guessing, the command that writes it), and the README's
figures are what the results files give (a number typed in by hand, or a results file
changed without regenerating the README, fails here)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess

import pytest

import bench.backfill_provenance as backfill
import bench.summarize as summarize
from bench import ladder
from bench import transfer_experiment
from molapp.cli import readme_figures
from molapp.cli import train as train_cli
from molapp.evaluation import provenance as provenance_module
from molapp.data.registry import DATASETS
from molapp.evaluation.provenance import describe, kind, provenance, provenance_counts
from molapp.models.checkpoint import read_card
from molapp.models.registry import MODEL_KINDS

from .conftest import FIXTURES, ROOT

RESULTS_DIR = ROOT / "bench" / "results"
# the top level and the study folders whose runs' names would collide there (bench/descriptor_variants.py)
RESULTS = sorted([*RESULTS_DIR.glob("*.json"), *RESULTS_DIR.glob("descriptor-variants/*/*.json")])
RECORDED = {"command", "commit", "packages", "machine", "wall_seconds", "date"}
NOT_RECORDED = {"recorded", "landed_in", "command", "command_source"}  # what a not-recorded block may hold


def _records() -> dict[str, dict]:
    return {str(path.relative_to(RESULTS_DIR)): json.loads(path.read_text()) for path in RESULTS}


def _git(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], input=stdin, capture_output=True, text=True, check=True).stdout


def _full_history() -> bool:
    try:
        return _git("rev-parse", "--is-shallow-repository").strip() == "false"
    except (OSError, subprocess.CalledProcessError):
        return False


needs_git_history = pytest.mark.skipif(not _full_history(), reason="needs a git checkout with its full history")


def test_a_training_run_records_the_commit_it_started_from(tmp_path, monkeypatch):
    """A commit landed while a long run trains is not the code that ran: the results file names the
    checkout's commit when the run started."""
    card = tmp_path / "run" / "card.json"  # a commit "lands" once the run has written its checkpoint
    monkeypatch.setattr(provenance_module, "git_commit", lambda: "b" * 40 if card.exists() else "a" * 40)
    assert train_cli.main(["--dataset", "bbbp", "--data-dir", str(FIXTURES / "ladder"), "--model", "graphmem", "--hidden", "8",
                           "--hops", "2", "--max-epochs", "1", "--threads", "1", "--workers", "1", "--split", "scaffold",
                           "--out", str(tmp_path / "run"), "--results-dir", str(tmp_path / "results")]) == 0
    (results_file,) = (tmp_path / "results").glob("*.json")
    assert json.loads(results_file.read_text())["provenance"]["commit"] == "a" * 40


def test_a_provenance_block_names_the_commit_its_process_started_from(monkeypatch):
    """Every bench script's results file, like molapp.train's, names the code it loaded, not a
    commit landed while it ran."""
    monkeypatch.setattr(provenance_module, "git_commit", lambda: "b" * 40)  # a commit lands mid-run
    assert provenance(1.0)["commit"] == provenance_module.PROCESS_COMMIT != "b" * 40


def test_a_provenance_block_names_the_run():
    block = provenance(3.25, "python bench/example.py --flag")
    assert RECORDED <= set(block) and block["command"] == "python bench/example.py --flag" and block["wall_seconds"] == 3.2
    assert block["commit"] != "unknown" and len(block["commit"].split("+")[0]) == 40  # this is a git checkout
    assert {"python", "torch", "rdkit", "numpy"} <= set(block["packages"]) and "CPUs" in block["machine"]
    assert describe({"provenance": block}).startswith("`python bench/example.py --flag` at ")
    assert describe({"provenance": {"recorded": False}}) == describe({}) == "provenance not recorded"
    landed = {"recorded": False, "landed_in": {"commit": "04b9abe3ed0e27b4642539bea9eb5ccb7dacd5c6", "date": "2026-11-23", "note": "n"}}
    assert kind({"provenance": landed}) == "landed" and kind({}) == "not recorded"
    assert describe({"provenance": landed}) == "provenance not recorded at run time; its content landed in commit 04b9abe3ed, 2026-11-23"


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: str(p.relative_to(RESULTS_DIR)))
def test_every_results_file_says_where_its_figures_come_from(path):
    record = json.loads(path.read_text())
    block = record["provenance"]
    if block.get("recorded") is False:  # written before provenance was recorded: only what git knows beside it
        assert set(block) <= NOT_RECORDED and "commit" not in block and "packages" not in block
        if "landed_in" in block:
            landed = block["landed_in"]
            assert re.fullmatch(r"[0-9a-f]{40}", landed["commit"]) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", landed["date"])
            assert landed["note"] == backfill.LANDED_NOTE
        if "command" in block or "command_source" in block:
            assert "landed_in" in block and block["command"].strip()
            if block["command_source"] == backfill.OWN_COMMAND:
                assert block["command"] == record["command"]
            else:
                assert block["command_source"].startswith("reconstructed: ")
    elif "source" in block:  # written before provenance was recorded: the card of the run behind it
        card_path = ROOT / block["source"].removeprefix("derived from ")
        assert card_path.name == "card.json"
        card = read_card(card_path.parent)
        assert block["command"] == card.command and block["packages"] == card.packages and block["date"] == card.trained_at
    else:
        assert RECORDED <= set(block) and block["commit"] and "landed_in" not in block
        assert block.get("recorded", True) is True


@needs_git_history
def test_each_landing_commit_is_the_one_that_added_the_files_present_figures():
    """The commit exists, has the file with the same figures (the provenance block aside), its
    date is the commit's, and its parent had other figures or no such file: the content landed
    there, not in a later commit that only rewrote the provenance block (as the backfill's do)."""
    records = _records()
    landed = {name: r["provenance"]["landed_in"] for name, r in records.items() if "landed_in" in r["provenance"]}
    unrecorded = {name for name, r in records.items() if r["provenance"].get("recorded") is False}
    # every file from before provenance was recorded: fewer as runs are redone, but the 550-odd with a
    # reconstructed command (the ladder's fingerprint models above all) are not rerun
    assert set(landed) == unrecorded and len(landed) > 500
    dates = dict(line.split() for line in _git("log", "--no-walk=unsorted", "--format=%H %cs",
                                               *sorted({l["commit"] for l in landed.values()})).splitlines())
    names = sorted(landed)
    requests = "".join(f"{landed[n]['commit']}:bench/results/{n}\n{landed[n]['commit']}^:bench/results/{n}\n" for n in names)
    out = subprocess.run(["git", "-C", str(ROOT), "cat-file", "--batch"], input=requests.encode(), capture_output=True, check=True).stdout
    blobs, at = [], 0
    while at < len(out):  # "<sha> blob <size>\n<content>\n" or "<request> missing\n"
        header, _, rest = out[at:].partition(b"\n")
        if header.endswith(b" missing"):
            blobs.append(None)
            at += len(header) + 1
            continue
        size = int(header.split()[2])
        blobs.append(rest[:size].decode())
        at += len(header) + 1 + size + 1
    assert len(blobs) == 2 * len(names)
    for i, name in enumerate(names):
        assert dates[landed[name]["commit"]] == landed[name]["date"], name
        then, before = blobs[2 * i], blobs[2 * i + 1]
        present = backfill._figures((ROOT / "bench" / "results" / name).read_text())
        assert then is not None and backfill._figures(then) == present, f"{name}: not this content at {landed[name]['commit']}"
        assert before is None or backfill._figures(before) != present, f"{name}: its figures were there before {landed[name]['commit']}"


@pytest.mark.parametrize("name", ["gcn-bace-random-seed0.json", "ecfp-svm-bace-random-seed0.json", "mt-graphmem-tox21-random-seed0.json"])
def test_a_ladder_file_names_the_ladder_command_that_writes_it(name):
    block = _records()[name]["provenance"]
    model = name.split("-bace-")[0].split("-tox21-")[0]
    dataset = "tox21" if "tox21" in name else "bace"
    assert block["command"] == f"OMP_NUM_THREADS=1 python bench/ladder.py --models {model} --datasets {dataset} --splits random --seeds 0"
    assert block["command_source"].startswith(backfill.LADDER_COMMAND)


def test_every_reconstructed_ladder_command_is_one_the_ladder_accepts_and_writes_that_file():
    parser = ladder.build_parser()
    known = [*ladder.FINGERPRINT_MODELS, *ladder.GRAPH_EPOCHS]
    checked = 0
    for name, record in _records().items():
        block = record["provenance"]
        if "bench/ladder.py" not in block.get("command", "") or block.get("recorded") is not False:
            continue
        args = parser.parse_args(backfill.ladder_argv(block["command"]))  # argparse exits on a flag it does not know
        assert shlex.split(block["command"])[:3] == ["OMP_NUM_THREADS=1", "python", "bench/ladder.py"]
        (model,), (dataset,), (split,), (seed,) = (a.split(",") for a in (args.models, args.datasets, args.splits, args.seeds))
        assert model in known and dataset in DATASETS and split in ("random", "scaffold"), name
        assert ladder.Run(model, dataset, split, int(seed)).path(ladder.RESULTS).name == name
        assert (record["model"], record["dataset"], record["split"], record["seed"]) == (model, dataset, split, int(seed))
        assert args.results_dir == str(ladder.RESULTS) and args.data_dir is None
        checked += 1
    assert checked >= 500


@needs_git_history
def test_a_graph_models_ladder_command_rests_on_a_ladder_commit():
    """molapp.train writes `<kind>-<dataset>-<split>-seed<k>.json` whoever runs it (the ladder,
    bench/train_memory_models.sh, bench/seeds.py, a hand-typed command): the ladder's command is
    given only where the commit that added the file records ladder runs."""
    records = _records()
    graph = {n: r["provenance"] for n, r in records.items() if r.get("model") in MODEL_KINDS and "landed_in" in r["provenance"]}
    for name, block in graph.items():
        subject = _git("log", "-1", "--format=%s", block["landed_in"]["commit"])
        assert ("bench/ladder.py" in block.get("command", "")) == bool(re.match(r"Ladder\b", subject)), name
    # files no ladder commit added name a command only where they were rerun and recorded their own (with the
    # commit it ran at): memgnn-tox21-random seed 0 came from bench/train_memory_models.sh (100 epochs, patience
    # 25, not the ladder's 150 / 40); a deployment recipe's split model (--no-early-stopping, 30 epochs) from no
    # script in bench/
    for name in ("memgnn-tox21-random-seed0.json", "graphmem-descriptors-unweighted-fixed30-tox21-scaffold-seed0.json",
                 "graphmem-descriptors-unweighted-fixed30-bbbp-scaffold-seed0.json"):
        block = records[name]["provenance"]
        assert "command" not in block or ("commit" in block and "landed_in" not in block), name


@pytest.mark.parametrize("dataset", ["tox21", "sider"])
def test_a_transfer_experiment_command_gives_the_files_own_settings(dataset):
    record = _records()[f"transfer-experiment-{dataset}.json"]
    block = record["provenance"]
    args = transfer_experiment.build_parser().parse_args(shlex.split(block["command"])[2:])
    assert shlex.split(block["command"])[:2] == ["python", "bench/transfer_experiment.py"]
    assert dataset in args.dataset.split(",") and args.seeds == record["seeds"]  # a run's own command may write several files
    config = record["config"]
    assert (args.hidden, args.max_epochs, args.patience, args.size_pools) == (
        config["hidden"], config["max_epochs"], config["patience"], config["size_pools"])
    if "landed_in" in block:  # a file from before provenance was recorded: the command is the backfill's reconstruction
        assert args.dataset == dataset and block["command_source"].startswith("reconstructed: bench/transfer_experiment.py")
    else:
        assert block["commit"] and "torch" in block["packages"]


def test_the_backfill_check_passes_and_a_second_run_would_change_nothing(capsys):
    assert backfill.main(["--check"]) == 0
    assert "landing added: 0" in capsys.readouterr().out


def _git_in(repo, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                          capture_output=True, text=True, check=True).stdout


def test_the_landing_commit_passes_over_commits_that_only_rewrote_the_provenance_block(tmp_path, monkeypatch):
    (tmp_path / "bench" / "results").mkdir(parents=True)
    path = tmp_path / "bench" / "results" / "gcn-bace-random-seed0.json"
    _git_in(tmp_path, "init", "-q")

    def commit(record: dict, message: str) -> str:
        path.write_text(json.dumps(record, indent=2) + "\n")
        _git_in(tmp_path, "add", "-A")
        _git_in(tmp_path, "commit", "-q", "-m", message)
        return _git_in(tmp_path, "rev-parse", "HEAD").strip()

    commit({"model": "gcn", "test": 0.5, "valid": float("nan")}, "first run")
    rerun = commit({"model": "gcn", "test": 0.8, "valid": float("nan")}, "rerun")
    commit({"model": "gcn", "test": 0.8, "valid": float("nan"), "provenance": {"recorded": False}}, "backfill")
    monkeypatch.setattr(backfill, "ROOT", tmp_path)
    backfill._full_history.cache_clear()
    try:
        landed = backfill.landed_in(path)
        assert landed["commit"] == rerun and landed["date"] == _git_in(tmp_path, "log", "-1", "--format=%cs", rerun).strip()
        path.write_text(json.dumps({"model": "gcn", "test": 0.9, "valid": 0.1}, indent=2) + "\n")  # not committed
        assert backfill.landed_in(path) is None
    finally:
        backfill._full_history.cache_clear()


def _write(directory, name: str, block: dict, **fields) -> None:
    (directory / name).write_text(json.dumps({**fields, "provenance": block}) + "\n")


def test_summaries_tell_the_four_kinds_apart_and_name_a_reconstructed_command(tmp_path):
    landed = {"commit": "04b9abe3ed0e27b4642539bea9eb5ccb7dacd5c6", "date": "2026-11-23", "note": backfill.LANDED_NOTE}
    command = "OMP_NUM_THREADS=1 python bench/ladder.py --models gcn --datasets bace --splits random --seeds 0"
    _write(tmp_path, "a.json", provenance(1.0, "python bench/a.py"))
    _write(tmp_path, "b.json", {"source": "derived from checkpoints/x/card.json", "command": "python -m molapp.train"})
    _write(tmp_path, "c.json", {"recorded": False, "landed_in": landed, "command": command,
                                "command_source": backfill.LADDER_COMMAND})
    _write(tmp_path, "d.json", {"recorded": False, "landed_in": landed, "command": "python bench/d.py",
                                "command_source": backfill.OWN_COMMAND}, command="python bench/d.py")
    _write(tmp_path, "e.json", {"recorded": False, "landed_in": landed})
    _write(tmp_path, "f.json", {"recorded": False})
    counts = provenance_counts(tmp_path)
    assert (counts["recorded"], counts["derived"], counts["landed"], counts["not recorded"]) == (1, 1, 3, 1)
    assert (counts["landed, own command"], counts["landed, command reconstructed"]) == (1, 1)
    (text,) = summarize.provenance_summary(tmp_path)
    assert "of 6 results files, 1 record" in text and "3 were written before provenance was recorded" in text
    assert "2 of them a command: 1 their own, 1 reconstructed" in text and "the other 1 name none" in text
    assert "1 cannot be traced at all" in text
    records = {p.name: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    assert summarize.short_provenance(records["c.json"]) == f"not recorded at run time; landed in commit 04b9abe3ed, 2026-11-23; `{command}` (reconstructed)"
    assert summarize.short_provenance(records["d.json"]).endswith("; `python bench/d.py`")
    assert summarize.short_provenance(records["e.json"]) == "not recorded at run time; landed in commit 04b9abe3ed, 2026-11-23"
    assert summarize.short_provenance(records["f.json"]) == "not recorded"
    assert summarize.ran(records["c.json"], tmp_path / "c.json") == (
        f"`bench/results/c.json`: `{command}` (command reconstructed) (provenance not recorded at run time; its content landed in "
        "commit 04b9abe3ed, 2026-11-23)")
    assert summarize.ran(records["e.json"], tmp_path / "e.json").startswith("`bench/results/e.json`: command not recorded (")
    (tmp_path / "e.json").unlink()  # once every landed file names a command, the sentence says so
    (text,) = summarize.provenance_summary(tmp_path)
    assert "and each of them a command: 1 their own, 1 reconstructed" in text and "name none" not in text


def test_readme_figures_are_generated_from_the_results_files():
    text = (ROOT / "README.md").read_text()
    for name in readme_figures.BLOCKS:
        assert f"<!-- figures:{name}:start -->" in text, f"README lost the {name} block"
    assert readme_figures.render(text) == text, "README.md's figures differ from bench/results: run `make readme`"


def test_the_transfer_paragraph_does_not_call_molapps_figures_the_papers():
    text = (ROOT / "README.md").read_text()
    assert "the paper's GraphMem 0.727" not in text
    assert "molapp's own runs of the ladder" in readme_figures.transfer_comparison()
