"""The sidebar every page shares: assay panel, task queries, decision threshold, device."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from molapp.app import resources, state
from molapp.app.panels import Panel, list_panels
from molapp.inference.predictor import Predictor, device_name
from molapp.models.registry import architecture_summary


@dataclass
class Settings:
    panel: Panel
    predictor: Predictor
    tasks: list[str]
    threshold: float


def render_sidebar() -> Settings:
    panels = list_panels()
    if not panels:
        st.error("No checkpoints found in `checkpoints/`. Train one with `python -m molapp.train` (see the README).")
        st.stop()
    titles = [p.title for p in panels]
    # Streamlit drops a widget's value when a page without it runs; re-setting the shared
    # sidebar's values keeps the panel and task choices across pages.
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith((state.PANEL, state.TASKS, state.THRESHOLD))]:
        st.session_state[key] = st.session_state[key]
    with st.sidebar:
        st.header("Assay panel")
        title = st.selectbox("Assay panel", titles, key=state.PANEL, label_visibility="collapsed")
        panel = panels[titles.index(title)]
        predictor = resources.predictor(str(panel.path))
        all_tasks = list(panel.card["tasks"])
        tasks_key = f"{state.TASKS}.{panel.path.name}"
        tasks = st.multiselect(
            "Task queries",
            all_tasks,
            default=None if tasks_key in st.session_state else all_tasks,  # a value kept in the session wins
            format_func=panel.task_label,
            key=tasks_key,
            help="Each selected task is a query q the model reads before reasoning over the molecule.",
        )
        threshold = 0.5
        if panel.card["task_type"] == "classification":
            if state.THRESHOLD not in st.session_state:
                st.session_state[state.THRESHOLD] = 0.5
            threshold = st.slider("Call active at probability ≥", 0.05, 0.95, step=0.05, key=state.THRESHOLD)
        st.caption(f"Runs on: **{device_name(predictor.device)}**")
        st.caption(f"Checkpoint `{panel.path.name}` · {architecture_summary(panel.card)}")
    return Settings(panel, predictor, tasks, threshold)
