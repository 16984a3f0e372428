"""The sidebar every page shares: assay panel, task queries, call thresholds, device."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from molapp.app import resources, state
from molapp.app.panels import Panel, list_panels
from molapp.inference.calls import THRESHOLD_RULE, TaskCalls
from molapp.inference.predictor import Predictor, device_name
from molapp.models.registry import architecture_summary


@dataclass
class Settings:
    panel: Panel
    predictor: Predictor
    tasks: list[str]
    calls: TaskCalls | None  # base rates, default thresholds, approved-drug percentiles (None: a checkpoint without them)
    threshold_override: float | None  # one threshold for every task, chosen by the user; None: each task's default

    def threshold(self, task: str) -> float:
        """The probability at or above which `task` is called active."""
        if self.threshold_override is not None:
            return self.threshold_override
        return self.calls.default_threshold(task) if self.calls is not None else 0.5


def run_inside_app_navigation() -> None:
    """A fresh server whose first request is a page's address (…/models) runs that page's file
    on its own, under Streamlit's older file-name navigation (its multipage v1: a `pages/`
    folder sits beside app.py), until some visit runs app.py. Rerun through app.py's
    `st.navigation` instead: the same page, with the app's own titles and icons. Once per
    session: a rerun drops the click that started a run, and Streamlit's test harness starts
    every run in that older mode."""
    from streamlit.runtime.pages_manager import PagesManager  # Streamlit's own switch between the two

    if PagesManager.uses_pages_directory and not st.session_state.get(state.NAVIGATION_HANDED_OVER):
        st.session_state[state.NAVIGATION_HANDED_OVER] = True
        PagesManager.uses_pages_directory = False
        st.rerun()


def render_sidebar() -> Settings:
    run_inside_app_navigation()
    panels = list_panels()
    if not panels:
        st.error("No checkpoints found in `checkpoints/`. Train one with `python -m molapp.train` (see the README).")
        st.stop()
    titles = [p.title for p in panels]
    if st.session_state.get(state.PANEL) not in (None, *titles):  # a user's panel renamed or deleted meanwhile
        del st.session_state[state.PANEL]
    # Streamlit drops a widget's value when a page without it runs; re-setting the shared
    # sidebar's values keeps the panel and task choices across pages.
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith((state.PANEL, state.TASKS, state.THRESHOLD))]:
        st.session_state[key] = st.session_state[key]
    with st.sidebar:
        st.header("Assay panel")
        title = st.selectbox("Assay panel", titles, key=state.PANEL, label_visibility="collapsed")
        panel = panels[titles.index(title)]
        predictor = resources.predictor(str(panel.path))
        all_tasks = list(panel.card.tasks)
        tasks_key = f"{state.TASKS}.{panel.path.name}"
        tasks = st.multiselect(
            "Task queries",
            all_tasks,
            default=None if tasks_key in st.session_state else all_tasks,  # a value kept in the session wins
            format_func=panel.task_label,
            key=tasks_key,
            help="Each selected task is a query q the model reads before reasoning over the molecule.",
        )
        calls = resources.task_calls(str(panel.path))
        override = None
        if panel.card.task_type == "classification":
            override = call_thresholds(calls)
        st.caption(f"Runs on: **{device_name(predictor.device)}**")
        st.caption(f"Checkpoint `{panel.path.name}` · {architecture_summary(panel.card)}")
    return Settings(panel, predictor, tasks, calls, override)


def call_thresholds(calls: TaskCalls | None) -> float | None:
    """Each task is called at its own default threshold unless the user overrides them all
    with one; returns that override, or None."""
    st.subheader("Calls")
    if calls is None:
        st.caption("This checkpoint has no per-task thresholds: calls are made at the slider's probability.")
    elif not st.toggle("Override the per-task thresholds", key=state.THRESHOLD_OVERRIDE,
                       help=f"Each task's default threshold is the probability with the {THRESHOLD_RULE}."):
        st.caption(f"Active at each task's own threshold ({THRESHOLD_RULE}).")
        return None
    if state.THRESHOLD not in st.session_state:
        st.session_state[state.THRESHOLD] = 0.5
    return st.slider("Call active at probability ≥", 0.01, 0.99, step=0.01, key=state.THRESHOLD)
