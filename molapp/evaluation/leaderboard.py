"""Benchmark results files (`bench/results/<model>-<dataset>-<split>-seed<k>.json`, one per
training run on a canonical split) → one leaderboard per dataset and split: mean ± std of
the test metric over seeds, best first."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from molapp.evaluation.paper_figures import paper_figures

RESULT_FIELDS = ("model", "dataset", "split", "seed", "metric", "test")


def read_results(directory: str | Path, shipped: str | Path | None = None) -> pd.DataFrame:
    """One row per run file: model, dataset, split, seed, metric, test, valid, train_seconds.
    Files of other benchmarks in the folder (no per-run fields) are skipped. With `shipped`
    (the checkpoints folder), each shipped ensemble's summary (`ensemble-<name>.json`) is a
    row too, as the model "<model> ensemble of M" (one run; its training time the members' sum),
    and, when a consensus panel ships, each consensus of split models (`assembled-<name>.json`,
    `molapp.cli.consensus`): the model "consensus" where it is the shipped panel's estimate,
    "consensus (<name>)" otherwise."""
    rows = []
    for path in sorted(Path(directory).glob("*-seed*.json")):
        record = json.loads(path.read_text())
        if all(field in record for field in RESULT_FIELDS):
            rows.append({**{field: record[field] for field in RESULT_FIELDS}, "valid": record.get("valid"),
                         "train_seconds": record.get("train_seconds")})
    for path in sorted(Path(directory).glob("ensemble-*.json")) if shipped else []:
        record = json.loads(path.read_text())
        if (Path(shipped) / record.get("checkpoint", "")).is_dir() and isinstance(record["dataset"], str):
            rows.append({"model": f"{record['model']} ensemble of {len(record['members'])}", "dataset": record["dataset"],
                         "split": record["split"], "seed": 0, "metric": record["metric"], "test": record["test"], "valid": record["valid"],
                         "train_seconds": sum(m["train_seconds"] for m in record["members"])})
    consensus_cards = [card for card in (json.loads(p.read_text()) for p in Path(shipped).glob("*/card.json"))
                       if card.get("model") == "consensus"] if shipped else []
    estimates = {source["checkpoint"] for card in consensus_cards for source in (card.get("estimate") or {}).values()}
    for path in sorted(Path(directory).glob("assembled-*.json")) if consensus_cards else []:
        record = json.loads(path.read_text())
        # the shipped panel's estimate is "consensus"; another consensus of split models goes by its own name
        model = "consensus" if record["checkpoint"] in estimates else f"consensus ({record['checkpoint']})"
        rows.append({"model": model, "dataset": record["dataset"], "split": record["split"], "seed": 0, "metric": record["metric"],
                     "test": record["test"], "valid": record["valid"], "train_seconds": sum(m["train_seconds"] for m in record["members"])})
    columns = [*RESULT_FIELDS, "valid", "train_seconds"]
    return pd.DataFrame(rows, columns=columns)


def leaderboard(results: pd.DataFrame, dataset: str, split: str) -> pd.DataFrame:
    """Per model: mean and std (over seeds; NaN for one seed) of the test metric, seeds run,
    mean training minutes, and the paper's figure where one exists. Best first: highest
    ROC-AUC, lowest RMSE."""
    runs = results[(results["dataset"] == dataset) & (results["split"] == split)]
    columns = ["model", "mean", "std", "seeds", "train_minutes", "paper", "paper_source"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    figures = paper_figures(dataset, split)
    table = runs.groupby("model").agg(mean=("test", "mean"), std=("test", "std"), seeds=("seed", "nunique"),
                                      train_minutes=("train_seconds", lambda s: s.mean() / 60)).reset_index()
    table["paper"] = [figures[m].value if m in figures else float("nan") for m in table["model"]]
    table["paper_source"] = [figures[m].source if m in figures else "" for m in table["model"]]
    ascending = runs["metric"].iloc[0] == "rmse"
    return table.sort_values("mean", ascending=ascending).reset_index(drop=True)[columns]


def metric_of(results: pd.DataFrame, dataset: str) -> str:
    values = results.loc[results["dataset"] == dataset, "metric"]
    return values.iloc[0] if len(values) else "roc_auc"
