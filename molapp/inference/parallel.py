"""Chunks of molecules scored by forked worker processes, in input order.

Workers are forked (RDKit holds the GIL, so threads would not help), which also lets them
inherit what the parent already loaded — a model, a domain index — passed as `initargs`
without pickling. Each worker keeps that state in `worker_state` and runs one torch thread:
on CPU, processes scale better than threads for the small batches molecules come in.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable, Iterator

import torch

worker_state: dict = {}  # set in each worker by `ordered_parallel`'s initializer


def _start_worker(state: dict) -> None:
    torch.set_num_threads(1)
    worker_state.update(state)


def ordered_parallel(function: Callable, chunks: Iterable[list], workers: int, state: dict | None = None) -> Iterator[tuple[list, object]]:
    """(chunk, function(chunk)) in input order, computed by `workers` forked processes whose
    `worker_state` holds `state`, with at most workers + 2 chunks in flight so memory stays
    bounded however long the input."""
    with mp.get_context("fork").Pool(workers, _start_worker, (state or {},)) as pool:
        pending: list = []
        for chunk in chunks:
            pending.append((chunk, pool.apply_async(function, (chunk,))))
            if len(pending) > workers + 1:
                done, result = pending.pop(0)
                yield done, result.get()
        for done, result in pending:
            yield done, result.get()
