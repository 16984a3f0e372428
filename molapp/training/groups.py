"""Datasets and their canonical splits as `TaskGroup`s, the unit training and evaluation
work on. Tasks of several datasets are concatenated in the order given."""

from __future__ import annotations

import sys

from molapp.data.dataset import LabelledMolecules, load_dataset
from molapp.training.trainer import TaskGroup


def build_groups(names: list[str], split: str, data_dir: str | None, workers: int, descriptors: str | None = None,
                 targets: list[str] | None = None) -> tuple[list[TaskGroup], list[str], list[str], dict]:
    """`targets`: train on these tasks only (e.g. some NCI-60 assays, or some with the AIDS
    assay), each from the dataset that has it, and on the molecules measured in at least one
    of them; every dataset named gives at least one."""
    groups, tasks, split_sources = [], [], {}
    for name in names:
        data = load_dataset(name, data_dir, workers=workers, descriptors=descriptors)
        if targets:
            own = [t for t in targets if t in data.spec.tasks]
            if not own and len(names) > 1:
                raise ValueError(f"{name} has none of the targets {', '.join(targets)}; leave it out or name one of its tasks")
            data = data.restricted_to(own if len(names) > 1 else targets)
        parts = data.split(split, data_dir)
        split_sources[name] = parts.source
        unusable = {int(r): m.error for r, m in zip(data.rows, data.molecules) if not m.ok}
        task_ids = list(range(len(tasks), len(tasks) + len(data.spec.tasks)))
        clash = set(tasks) & set(data.spec.tasks)
        if clash:
            raise ValueError(f"task names {clash} appear in two datasets")
        tasks += data.spec.tasks
        groups.append(TaskGroup(name, task_ids, parts.train, parts.valid, parts.test))
        dropped = {p: sum(1 for r in getattr(parts.parts, p) if int(r) in unusable) for p in ("train", "valid", "test")}
        print(f"{name}: train {len(groups[-1].train)}, valid {len(groups[-1].valid)}, test {len(groups[-1].test)}; "
              f"rows not usable after standardization: {dropped}", file=sys.stderr)
    unknown = [t for t in targets or [] if t not in tasks]
    if unknown:
        raise ValueError(f"no dataset of {', '.join(names)} has the task {', '.join(map(repr, unknown))}")
    return groups, tasks, [g.train.spec.task_type for g in groups], split_sources
