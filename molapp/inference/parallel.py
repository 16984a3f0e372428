"""Chunks of molecules scored by worker processes, in input order.

Workers are processes (RDKit holds the GIL, so threads would not help). From a
single-threaded program (the predict CLI) they are forked, which lets them inherit what the
parent already loaded — a model, a domain index — without pickling. From a multi-threaded
server (the app) forking is unsafe: a child inherits locks other threads held at that
instant and can hang on them, so there the workers come from a fork server (`SERVER_SAFE`),
a clean single-threaded process that has imported molapp once, and the state is pickled
to each worker. Each worker keeps that state in `worker_state` and runs one torch thread:
on CPU, processes scale better than threads for the small batches molecules come in.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable, Iterator
from functools import partial

import torch

worker_state: dict = {}  # set in each worker by `ordered_parallel`'s initializer
SERVER_SAFE = "forkserver"  # the start method for workers started from a multi-threaded process


def server_safe_context() -> mp.context.BaseContext:
    """The multiprocessing context for work started from the app's threads: a fork server
    that imported what the workers run once, so each worker starts in milliseconds."""
    context = mp.get_context(SERVER_SAFE)
    context.set_forkserver_preload(["molapp.inference.triage", "molapp.explain.depict"])
    return context


def _start_worker(state: dict) -> None:
    torch.set_num_threads(1)
    worker_state.update(state)


def ordered_parallel(function: Callable, chunks: Iterable[list], workers: int, state: dict | None = None,
                     start_method: str = "fork") -> Iterator[tuple[list, object]]:
    """(chunk, function(chunk)) in input order, computed by `workers` processes started by
    `start_method` whose `worker_state` holds `state`, with at most workers + 2 chunks in
    flight so memory stays bounded however long the input."""
    context = server_safe_context() if start_method == SERVER_SAFE else mp.get_context(start_method)
    with context.Pool(workers, _start_worker, (state or {},)) as pool:
        pending: list = []
        for chunk in chunks:
            pending.append((chunk, pool.apply_async(function, (chunk,))))
            if len(pending) > workers + 1:
                done, result = pending.pop(0)
                yield done, result.get()
        for done, result in pending:
            yield done, result.get()


def _prepare_and_score(prepare: Callable, score: Callable, chunk: list):
    """In a worker: a chunk's whole work, with the context the worker was given."""
    return score(prepare(chunk), worker_state)


def prepared_and_scored(chunks: Iterable[list], prepare: Callable[[list], object], score: Callable[[object, dict], object],
                        context: dict, workers: int, on_cpu: bool, start_method: str = "fork") -> Iterator[tuple[list, object]]:
    """(chunk, score(prepare(chunk), context)) in input order: the one way molecules are
    scored in worker processes. `prepare` is the RDKit work (standardize, featurize: it needs
    no model); `score` runs the model with what `context` holds (the predictor, ...). On CPU
    (`on_cpu`) each of `workers` processes does whole chunks, with its own copy of `context`
    (data parallel: processes scale better than torch threads for molecule-sized batches);
    on a GPU the model stays in this process and the workers only prepare. With no workers
    everything runs here. `prepare` and `score` must be module-level functions (or partials
    of them): they travel to the workers."""
    if workers > 0 and on_cpu:
        yield from ordered_parallel(partial(_prepare_and_score, prepare, score), chunks, workers, context, start_method)
    elif workers > 0:
        for chunk, prepared in ordered_parallel(prepare, chunks, workers, None, start_method):
            yield chunk, score(prepared, context)
    else:
        for chunk in chunks:
            yield chunk, score(prepare(chunk), context)
