"""The Models page: how every model does on the same data (a leaderboard per dataset and
split from the benchmark results files), every shipped checkpoint at a glance, and the
chosen checkpoint in detail — its card, ROC curves per task and a reliability plot (or, for
regression, predicted against measured) on its own test split."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from molapp.app import state
from molapp.app.panels import DATASET_TITLES, ROOT, Panel, checkpoint_dir, list_panels
from molapp.app.sidebar import Settings
from molapp.app.text import escape_markdown
from molapp.evaluation.leaderboard import leaderboard as leaderboard_table
from molapp.evaluation.leaderboard import metric_of, read_results
from molapp.evaluation.split_predictions import SplitPredictions, expected_calibration_error, reliability, roc
from molapp.models.card import Card
from molapp.models.registry import architecture_summary, is_assembled

METRIC_NAMES = {"roc_auc": "ROC-AUC", "rmse": "RMSE"}


def results_dir() -> Path:
    """The benchmark results files, or the folder `MOLAPP_RESULTS` names."""
    return Path(os.environ.get("MOLAPP_RESULTS", ROOT / "bench" / "results"))


@st.cache_data(show_spinner=False)
def _results(directory: str) -> pd.DataFrame:
    return read_results(directory, shipped=checkpoint_dir())


def leaderboard(panel: Panel) -> None:
    st.subheader("Leaderboard")
    results = _results(str(results_dir()))
    if results.empty:
        st.info(f"No benchmark results in `{results_dir()}`; `bench/ladder.py` writes them.")
        return
    datasets = sorted(results["dataset"].unique(), key=lambda d: list(DATASET_TITLES).index(d) if d in DATASET_TITLES else 99)
    home = panel.card.dataset if isinstance(panel.card.dataset, str) else panel.card.dataset[0]
    if st.session_state.get(state.MODELS_BOARD_PANEL) != panel.path.name or state.MODELS_DATASET not in st.session_state:
        # A new panel (or a return to the page, which dropped the widgets' values) starts the
        # leaderboard on the panel's dataset and split: the widgets would otherwise keep the
        # previous panel's (a Tox21 leaderboard above an ESOL card).
        st.session_state[state.MODELS_BOARD_PANEL] = panel.path.name
        st.session_state[state.MODELS_DATASET] = home if home in datasets else datasets[0]
        # a deployment panel's figures are its estimate's, on the split its card names first
        split = next(iter(panel.card.estimate or {}), "scaffold") if panel.is_deployment else panel.card.split
        st.session_state[state.MODELS_SPLIT] = "random" if split == "random" else "scaffold"
    left, right = st.columns(2)
    dataset = left.selectbox("Dataset", datasets, format_func=lambda d: DATASET_TITLES.get(d, (d,))[0], key=state.MODELS_DATASET)
    split = right.radio("Split", ["scaffold", "random"], horizontal=True, key=state.MODELS_SPLIT)
    table = leaderboard_table(results, dataset, split)
    metric = METRIC_NAMES[metric_of(results, dataset)]
    if table.empty:
        st.info(f"No runs on {DATASET_TITLES.get(dataset, (dataset,))[0]} with the {split} split yet.")
        return
    better = "lower" if metric == "RMSE" else "higher"
    st.caption(f"Test {metric} on the canonical {split} split ({better} is better), mean ± std over seeds. "
               "Paper figures are on the papers' own splits of the same kind: context, not the same rows.")
    shown = table.rename(columns={"mean": f"test {metric}", "std": "± std", "paper_source": "paper source",
                                  "train_minutes": "training (min)"})
    for column in ("± std", "paper"):  # text, so that a run of one seed or a model no paper reports shows a dash, not "None"
        shown[column] = [f"{value:.3f}" if value == value else "–" for value in shown[column]]
    st.dataframe(shown, hide_index=True, column_config={
        f"test {metric}": st.column_config.NumberColumn(format="%.3f"),
        "training (min)": st.column_config.NumberColumn(format="%.1f")})
    st.plotly_chart(leaderboard_figure(table, metric), key="models-leaderboard")


def leaderboard_figure(table: pd.DataFrame, metric: str) -> go.Figure:
    figure = go.Figure(go.Bar(x=table["model"], y=table["mean"], error_y=dict(type="data", array=table["std"].fillna(0)),
                              name="ours (mean ± std)", marker_color="#4C78A8",
                              hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    papers = table.dropna(subset=["paper"])
    if not papers.empty:
        figure.add_trace(go.Scatter(x=papers["model"], y=papers["paper"], mode="markers", name="paper",
                                    marker=dict(symbol="diamond", size=12, color="#E45756"),
                                    hovertext=papers["paper_source"], hovertemplate="%{hovertext}: %{y:.3f}<extra></extra>"))
    values = pd.concat([table["mean"] + table["std"].fillna(0), papers["paper"]])
    low = 0.9 * min(table["mean"].min(), papers["paper"].min() if not papers.empty else np.inf) if metric == "ROC-AUC" else 0.0
    figure.update_layout(height=340, margin=dict(l=10, r=10, t=10, b=10), yaxis_title=f"test {metric}",
                         yaxis_range=[low, 1.03 * values.max()], legend=dict(orientation="h", y=1.1))
    return figure


def overview() -> None:
    st.subheader("Shipped checkpoints")
    rows = []
    for panel in (p for p in list_panels() if not p.is_user):  # the user's own panels: their cards, below
        card = panel.card
        rows.append({
            "panel": panel.title,
            "checkpoint": panel.path.name,
            "metric": METRIC_NAMES[card.metric],
            "test (mean over tasks)": round(card.metrics["test"]["mean"], 3),
            "valid": round(card.metrics["valid"]["mean"], 3),
            "architecture": architecture_summary(card),
            "training time (min)": round(card.train_seconds / 60, 1),
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption("Figures are on the canonical MoleculeNet splits; `bench/reproduce.py --evaluate` re-scores them. A deployment panel "
               "(trained on every labelled row) shows its recipe's split models' figures (the split its card names), as an estimate.")


def card(panel: Panel) -> None:
    card = panel.card
    st.subheader(panel.title)
    per_task = pd.DataFrame({
        "task": [panel.task_label(t) for t in card.tasks],
        "test": [card.metrics["test"].get(t) for t in card.tasks],
        "valid": [card.metrics["valid"].get(t) for t in card.tasks],
    })
    st.dataframe(per_task, hide_index=True, column_config={
        "test": st.column_config.NumberColumn(format="%.3f"), "valid": st.column_config.NumberColumn(format="%.3f")})
    sizes = card.sizes
    data = "; ".join(f"{name}: {s['train']} train, {s['valid']} valid, {s['test']} test" for name, s in sizes.items())
    source = f"**Data** {data} ({card.split} split, {', '.join(card.split_source.values()) or 'canonical'})."
    machine = card.machine or "CPU"
    if panel.is_deployment:
        estimate(card)
    if card.is_user_data:  # a panel trained on the user's own file
        user_data_note(card)
    if is_assembled(card.model):  # a consensus: its graph members' own runs, and the forests it fitted
        forests = len(card.config["forests"])
        st.markdown(f"{source}  \n**Consensus** of {len(card.config['members'])} trained graph models and "
                    f"{forests} random forest{'s' if forests != 1 else ''} fitted on the same rows, assembled with `{card.command}` "
                    f"({card.train_seconds / 60:.0f} min of training in all on {machine}).")
        members = pd.DataFrame([dataclasses.asdict(m) for m in card.members])
        shown = [c for c in ("checkpoint", "test", "valid", "train_seconds", "command") if members[c].notna().any()]
        st.dataframe(members[shown], hide_index=True,
                     column_config={"test": st.column_config.NumberColumn(format="%.3f"), "valid": st.column_config.NumberColumn(format="%.3f")})
    elif card.members and len(card.members) == 1:  # a deployment model of one member: its own training run
        st.markdown(f"{source}  \n**Trained** on every labelled row with `{card.members[0].command}` in "
                    f"{card.train_seconds / 60:.0f} min on {machine}; assembled with `{card.command}`.")
    elif card.members:  # an ensemble: each member's own training run
        st.markdown(f"{source}  \n**Ensemble** of {len(card.members)} members trained with different seeds "
                    f"({card.train_seconds / 60:.0f} min in all on {machine}), combined with `{card.command}`.")
        members = pd.DataFrame([dataclasses.asdict(m) for m in card.members])
        shown = [c for c in ("seed", "test", "valid", "train_seconds", "command") if members[c].notna().any()]  # a deployment member has no test rows
        st.dataframe(members[shown], hide_index=True,
                     column_config={"test": st.column_config.NumberColumn(format="%.3f"), "valid": st.column_config.NumberColumn(format="%.3f")})
    else:
        st.markdown(f"{source}  \n**Trained** with `{card.command}` in {card.train_seconds / 60:.0f} min on "
                    f"{machine}; best epoch {card.best_epoch} of {card.epochs_run}.")
    with st.expander("Hyper-parameters and architecture"):
        st.json({"architecture": architecture_summary(card), "hyperparameters": card.hyperparameters,
                 "config": card.config})
    with st.expander("Full card (card.json)"):
        st.json(card.to_json())


def user_data_note(card: Card) -> None:
    """Where a user's panel came from: the file (name, SHA-256), its columns, and what the
    data check found and did (each note with its rows, in the full card)."""
    data, columns, found = card.data_file, card.columns, card.data_report
    smiles = f"SMILES column `{columns.smiles}`, " if columns and columns.smiles else ""
    targets = columns.targets if columns else card.tasks
    rows = f"{found.rows_read:,}" if found else f"{data.rows:,}"
    kept = f"{found.molecules:,}" if found else "?"
    st.markdown(f"**Your data** {escape_markdown(data.name)} (SHA-256 `{data.sha256}`): {smiles}"
                f"targets {', '.join(f'`{t}`' for t in targets)}; {rows} rows read, {kept} distinct molecules kept.")
    for note in found.notes if found else []:
        st.caption(escape_markdown(note.message))


def estimate(card: Card) -> None:
    """A deployment model's figures are its recipe's, measured on canonical splits: say so, with each split's."""
    st.info(f"**Deployment model**: trained on every labelled row with a recipe fixed beforehand on the canonical splits. "
            f"The figures here are {card.metrics_from}.")
    st.dataframe(pd.DataFrame([{"split": split, "ensemble of": e.ensemble_size, "test": e.test, "valid": e.valid, "command": e.command}
                               for split, e in card.estimate.items()]), hide_index=True,
                 column_config={"test": st.column_config.NumberColumn(format="%.3f"), "valid": st.column_config.NumberColumn(format="%.3f")})


@st.cache_data(show_spinner=False)
def _held_out(path: str) -> SplitPredictions | None:
    return SplitPredictions.load(path)


def test_split(settings: Settings) -> None:
    panel = settings.panel
    held_out = _held_out(str(panel.path))
    st.subheader("On its test split")
    if held_out is None:
        st.info(f"`{panel.path.name}` ships no test-split predictions; "
                f"`python -m molapp.cli.evaluate {panel.path}` writes them.")
        return
    tasks = [t for t in settings.tasks] or list(panel.card.tasks)
    indices = [panel.card.tasks.index(t) for t in tasks]
    if panel.card.task_type == "classification":
        left, right = st.columns(2)
        with left:
            st.markdown("**ROC curve per task**")
            st.plotly_chart(roc_figure(panel, held_out, tasks, indices), key="models-roc")
        with right:
            task = st.selectbox("Reliability of", tasks, format_func=panel.task_label, key=state.MODELS_TASK)
            labels, probabilities = held_out.measured(panel.card.tasks.index(task))
            table = reliability(labels, probabilities)
            st.markdown(f"**Reliability** — expected calibration error {expected_calibration_error(table):.3f}")
            st.plotly_chart(reliability_figure(table), key="models-reliability")
            st.caption(calibration_note(panel.card))
    else:
        st.plotly_chart(parity_figure(panel, held_out, tasks, indices), key="models-parity")


def calibration_note(card: Card) -> str:
    """What the reliability plot shows: calibrated probabilities, and how much calibrating helped."""
    diagonal = "Points on the diagonal: a predicted probability p is active p of the time."
    calibration = card.calibration
    if calibration is None:
        return (f"{diagonal} Uncalibrated probabilities: the positive-class weighting used in training shifts them up for "
                f"rare actives (`python -m molapp.cli.evaluate CHECKPOINT --calibrate` fits a calibration).")
    error = calibration.expected_calibration_error
    note = (f"{diagonal} Probabilities are calibrated per task by Platt scaling fitted on the validation split "
            f"(training weights rare actives up, which inflates raw probabilities). Calibration error, mean over tasks: "
            f"validation {error['valid']['before']:.3f} raw → {error['valid']['after']:.3f} calibrated; "
            f"test {error['test']['before']:.3f} → {error['test']['after']:.3f}.")
    if error["test"]["after"] > error["test"]["before"]:
        note += (" Here calibration fitted on validation does not carry to the test split: with the "
                 f"{card.split} split its molecules differ from the validation ones.")
    return note


def roc_figure(panel: Panel, held_out: SplitPredictions, tasks: list[str], indices: list[int]) -> go.Figure:
    figure = go.Figure()
    for task, k in zip(tasks, indices):
        curve = roc(*held_out.measured(k))
        if curve is None:
            continue
        figure.add_trace(go.Scatter(x=curve.false_positive_rate, y=curve.true_positive_rate, mode="lines",
                                    name=f"{panel.task_label(task)} ({curve.auc:.3f})",
                                    hovertemplate=f"{task}: FPR %{{x:.2f}}, TPR %{{y:.2f}}<extra></extra>"))
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"), showlegend=False, hoverinfo="skip"))
    figure.update_layout(height=520, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="false positive rate",
                         yaxis_title="true positive rate", legend=dict(orientation="h", y=-0.2, font=dict(size=10)))
    return figure


def reliability_figure(table: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    figure.add_trace(go.Bar(x=(table["bin_low"] + table["bin_high"]) / 2, y=table["molecules"], width=0.09, yaxis="y2",
                            name="molecules", marker_color="rgba(150,150,150,0.35)", hovertemplate="%{y} molecules<extra></extra>"))
    figure.add_trace(go.Scatter(x=table["mean_predicted"], y=table["observed_fraction"], mode="lines+markers", name="model",
                                marker_color="#4C78A8", hovertemplate="predicted %{x:.2f}, observed %{y:.2f}<extra></extra>"))
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"), name="perfectly calibrated"))
    figure.update_layout(height=380, margin=dict(l=10, r=10, t=10, b=10), xaxis=dict(title="mean predicted probability", range=[0, 1]),
                         yaxis=dict(title="observed fraction active", range=[0, 1]),
                         yaxis2=dict(overlaying="y", side="right", showgrid=False, title="molecules"), legend=dict(orientation="h", y=1.12))
    return figure


def parity_figure(panel: Panel, held_out: SplitPredictions, tasks: list[str], indices: list[int]) -> go.Figure:
    figure = go.Figure()
    low, high = np.inf, -np.inf
    for task, k in zip(tasks, indices):
        measured, predicted = held_out.measured(k)
        rmse = float(np.sqrt(np.mean((measured - predicted) ** 2)))
        figure.add_trace(go.Scatter(x=measured, y=predicted, mode="markers", name=f"{panel.task_label(task)} (RMSE {rmse:.3f})",
                                    marker=dict(size=6, opacity=0.7), hovertemplate="measured %{x:.2f}, predicted %{y:.2f}<extra></extra>"))
        low, high = min(low, measured.min(), predicted.min()), max(high, measured.max(), predicted.max())
    figure.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", line=dict(dash="dot", color="grey"), showlegend=False))
    units = panel.units(tasks[0])
    figure.update_layout(height=460, margin=dict(l=10, r=10, t=10, b=10), xaxis_title=f"measured ({units})",
                         yaxis_title=f"predicted ({units})", legend=dict(orientation="h"))
    return figure
