"""The Checkpoints page: every shipped model at a glance, and one card in detail."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from molapp.app.panels import Panel, list_panels
from molapp.models.registry import architecture_summary


def overview() -> None:
    rows = []
    for panel in list_panels():
        card = panel.card
        rows.append({
            "panel": panel.title,
            "checkpoint": panel.path.name,
            "metric": "ROC-AUC" if card["metric"] == "roc_auc" else "RMSE",
            "test (mean over tasks)": round(card["metrics"]["test"]["mean"], 3),
            "valid": round(card["metrics"]["valid"]["mean"], 3),
            "architecture": architecture_summary(card),
            "training time (min)": round(card["train_seconds"] / 60, 1),
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption("Figures are on the canonical MoleculeNet splits; `bench/reproduce.py --evaluate` re-scores them.")


def card(panel: Panel) -> None:
    card = panel.card
    st.subheader(panel.title)
    per_task = pd.DataFrame({
        "task": [panel.task_label(t) for t in card["tasks"]],
        "test": [card["metrics"]["test"].get(t) for t in card["tasks"]],
        "valid": [card["metrics"]["valid"].get(t) for t in card["tasks"]],
    })
    st.dataframe(per_task, hide_index=True, column_config={
        "test": st.column_config.NumberColumn(format="%.3f"), "valid": st.column_config.NumberColumn(format="%.3f")})
    st.markdown(f"Trained with `{card['command']}` in {card['train_seconds'] / 60:.0f} min on {card.get('trained_on', 'CPU')}; "
                f"best epoch {card.get('best_epoch')} of {card.get('epochs_run')}.")
    with st.expander("Full card (card.json)"):
        st.json(card)
