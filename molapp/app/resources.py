"""What the app holds once per process, never per rerun or per session: the loaded models
and indexes (st.cache_resource), and the slots for batch scoring jobs."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from molapp.explain.embedding_map import EmbeddingMap
from molapp.inference.calls import TaskCalls
from molapp.inference.domain import DomainIndex
from molapp.inference.predictor import Predictor


@st.cache_resource(show_spinner="Loading model…")
def predictor(path: str) -> Predictor:
    return Predictor.load(path, "auto")


@st.cache_resource(show_spinner="Loading training-set index…")
def domain_index(path: str) -> DomainIndex:
    return DomainIndex.load(Path(path))


@st.cache_resource(show_spinner="Loading the embedding map…")
def embedding_map(path: str, view: str = "") -> EmbeddingMap:
    return EmbeddingMap.load(Path(path), view)


@st.cache_resource(show_spinner=False)
def task_calls(path: str) -> TaskCalls | None:
    return TaskCalls.load(Path(path))


# Batch jobs (Triage scoring) that run at once across every session of this server; each
# starts its own worker processes, so without a cap N users would start N pools on a few cores.
SCORING_SLOTS = max(1, int(os.environ.get("MOLAPP_SCORING_SLOTS", "2")))
_scoring = threading.BoundedSemaphore(SCORING_SLOTS)


@contextmanager
def scoring_slot() -> Iterator[None]:
    """Hold one of the server's SCORING_SLOTS while a batch job runs; when all are taken,
    say so on the page and wait for one."""
    if not _scoring.acquire(blocking=False):
        notice = st.info(f"Waiting for a free slot: this server scores {SCORING_SLOTS} lists at a time, "
                         "and other sessions are using them…", icon=":material/hourglass_top:")
        _scoring.acquire()
        notice.empty()
    try:
        yield
    finally:
        _scoring.release()
