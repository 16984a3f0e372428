"""What the app loads once per process (st.cache_resource), never per rerun."""

from __future__ import annotations

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
