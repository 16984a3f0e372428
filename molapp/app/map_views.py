"""The blocks the Map page is made of: which map, what colours it, the user's molecules
placed on it, the chart (with selection), the selected molecules, and a second model's
map of the same molecules beside it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
import streamlit as st

from molapp.app import resources, state
from molapp.app.panels import Panel, list_panels
from molapp.app.sidebar import Settings
from molapp.data.featurize import featurize_smiles
from molapp.explain.depict import grid_svg
from molapp.explain.embedding_map import SPLITS, EmbeddingMap, outcome
from molapp.inference.predictor import predict_graphs
from molapp.models.registry import MODEL_KINDS, model_title

PLACED_LIMIT = 1000  # the user's molecules placed at once (the top rows of the Triage table)
SPLIT_COLOURS = {"train": "#9ecae1", "valid": "#fdae6b", "test": "#e6550d"}
OUTCOME_COLOURS = {"TP": "#1a9641", "FN": "#a6d96a", "FP": "#d7191c", "TN": "#bababa", "": "#eeeeee"}


@dataclass
class Placed:
    """The user's molecules on a map: `names`, `smiles`, `coordinates` [m, 2], `values` [m, T]."""

    names: list[str]
    smiles: list[str]
    coordinates: np.ndarray
    values: np.ndarray


def panels_with_maps() -> list[Panel]:
    return [p for p in list_panels() if EmbeddingMap.exists(p.path)]


def user_molecules() -> list[tuple[str, str]]:
    """(name, SMILES) of the molecule on the Predict page and the Triage page's rows on screen."""
    chosen = []
    if state.MOLECULE in st.session_state:
        name, smiles = st.session_state[state.MOLECULE]
        chosen.append((f"{name} (Predict)", smiles))
    view = st.session_state.get(state.TRIAGE_VIEW)
    if view is not None:
        ok = view[view["status"] == "ok"].head(PLACED_LIMIT)
        chosen += [(f"{ident} (Triage)", smiles) for ident, smiles in zip(ok["id"].astype(str), ok["canonical_smiles"])]
    return chosen


@st.cache_data(max_entries=32, show_spinner="Placing your molecules on the map…")
def _place(checkpoint: str, names: tuple[str, ...], smiles: tuple[str, ...], view: str) -> Placed:
    predictor = resources.predictor(checkpoint)
    reference = resources.embedding_map(checkpoint, view)
    # In this thread: at most PLACED_LIMIT molecules (well under a second of RDKit), and the
    # server's threads must not fork worker processes.
    molecules = featurize_smiles(list(smiles), descriptors=predictor.descriptors)
    keep = [i for i, m in enumerate(molecules) if m.ok]
    if not keep:
        return Placed([], [], np.zeros((0, 2)), np.zeros((0, len(predictor.tasks))))
    query = predictor.tasks.index(reference.query_task) if reference.query_task else None
    predicted = predict_graphs(predictor.model, [molecules[i].graph for i in keep], batch_size=predictor.batch_size,
                               embedding_view=view, query=query)
    return Placed([names[i] for i in keep], [molecules[i].canonical_smiles for i in keep], reference.place(predicted.embeddings),
                  predicted.values)


def place(panel: Panel, molecules: list[tuple[str, str]], view: str = "") -> Placed | None:
    if not molecules:
        return None
    return _place(str(panel.path), tuple(n for n, _ in molecules), tuple(s for _, s in molecules), view)


def colouring(panel: Panel, reference: EmbeddingMap) -> tuple[str, str]:
    """The colouring chosen: (what, task)."""
    classification = panel.card.task_type == "classification"
    options = ["measured label", "predicted " + ("probability" if classification else "value"), "split"] + (["outcome (TP/FP/TN/FN)"] if classification else [])
    if len(set(reference.source_datasets())) > 1:  # a joint panel's map: where each molecule comes from
        options.append("dataset")
    left, right = st.columns(2)
    what = left.selectbox("Colour by", options, key=state.MAP_COLOUR)
    default = reference.tasks.index(reference.query_task) if reference.query_task else 0
    task = right.selectbox("Task", reference.tasks, index=default, format_func=panel.task_label, key=state.MAP_TASK)
    return what, task


def figure(panel: Panel, reference: EmbeddingMap, what: str, task: str, threshold: float, placed: Placed | None, height: int = 620) -> go.Figure:
    k = reference.tasks.index(task)
    index = np.arange(len(reference.ids))
    custom = np.stack([index, np.array(reference.ids, dtype=object), np.array(reference.smiles, dtype=object)], axis=1)
    hover = "%{customdata[1]}<br>%{customdata[2]}<br>%{text}<extra></extra>"
    classification = panel.card.task_type == "classification"
    fig = go.Figure()

    def categorical(categories: np.ndarray, colours: dict[str, str], label: str) -> None:
        for name, colour in colours.items():
            members = categories == name
            if members.any():
                fig.add_trace(go.Scattergl(x=reference.coordinates[members, 0], y=reference.coordinates[members, 1], mode="markers",
                                           name=name or "not measured", marker=dict(size=5, color=colour), customdata=custom[members],
                                           text=[f"{label}: {name or 'not measured'}"] * int(members.sum()), hovertemplate=hover))

    if what == "split":
        categorical(np.array(SPLITS, dtype=object)[reference.split], SPLIT_COLOURS, "split")
    elif what == "dataset":
        sources = reference.source_datasets()
        names = list(dict.fromkeys(sources))
        categorical(sources, dict(zip(names, plotly.colors.qualitative.Set2)), "dataset")
    elif what.startswith("outcome"):
        categorical(outcome(reference.labels[:, k], reference.predictions[:, k], threshold), OUTCOME_COLOURS, "outcome")
    else:
        values = reference.labels[:, k] if what == "measured label" else reference.predictions[:, k]
        measured = ~np.isnan(values)
        if (~measured).any():
            fig.add_trace(go.Scattergl(x=reference.coordinates[~measured, 0], y=reference.coordinates[~measured, 1], mode="markers",
                                       name="not measured", marker=dict(size=4, color="#e5e5e5"), customdata=custom[~measured],
                                       text=["not measured"] * int((~measured).sum()), hovertemplate=hover))
        units = panel.units(task)
        title = task if classification else f"{task} ({units})" if units else task
        fig.add_trace(go.Scattergl(
            x=reference.coordinates[measured, 0], y=reference.coordinates[measured, 1], mode="markers", name=what,
            marker=dict(size=5, color=values[measured], colorscale="Viridis" if not classification else "RdYlBu_r",
                        cmin=0 if classification else None, cmax=1 if classification else None,
                        colorbar=dict(title=dict(text=title, side="right"), thickness=12)),
            customdata=custom[measured], text=[f"{what}: {label_text(v)}" for v in values[measured]], hovertemplate=hover, showlegend=False))
    if placed is not None and len(placed.names):
        fig.add_trace(go.Scatter(
            x=placed.coordinates[:, 0], y=placed.coordinates[:, 1], mode="markers+text" if len(placed.names) <= 12 else "markers",
            name="your molecules", text=placed.names, textposition="top center",
            marker=dict(symbol="star", size=16, color="#ffd700", line=dict(color="black", width=1.5)),
            customdata=np.stack([np.full(len(placed.names), -1), np.array(placed.names, dtype=object), np.array(placed.smiles, dtype=object)], axis=1),
            hovertext=[f"predicted {task}: {v:.2f}" for v in placed.values[:, k]],
            hovertemplate="<b>%{customdata[1]}</b><br>%{customdata[2]}<br>%{hovertext}<extra>your molecule</extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), dragmode="lasso", legend=dict(orientation="h", y=1.02),
                      xaxis=dict(showticklabels=False, title="t-SNE 1"), yaxis=dict(showticklabels=False, title="t-SNE 2"))
    return fig


def chart(panel: Panel, reference: EmbeddingMap, what: str, task: str, threshold: float, placed: Placed | None, key: str, height: int = 620) -> list[int]:
    """The map; returns the reference indices the user selected (box or lasso, or a click)."""
    event = st.plotly_chart(figure(panel, reference, what, task, threshold, placed, height), key=key, on_select="rerun",
                            selection_mode=("points", "box", "lasso"), width="stretch")
    points = event.selection.points if event and event.selection else []
    return sorted({int(p["customdata"][0]) for p in points if p.get("customdata") and int(p["customdata"][0]) >= 0})


def describe(panel: Panel, reference: EmbeddingMap) -> str:
    kind = panel.card.model
    embedding = MODEL_KINDS[kind].embedding if kind in MODEL_KINDS else "molecule embedding"
    if reference.query_task:  # GraphMem's: one embedding per task query
        embedding += f" for the task query **{reference.query_task}**"
    model = model_title(kind)
    reduced = (f", reduced from {reference.projection.components.shape[0]} to {reference.projection.components.shape[1]} "
               "dimensions by PCA" if reference.projection is not None else "")
    return (f"{len(reference.ids):,} molecules of {reference.dataset} embedded by {model} ({embedding}{reduced}), laid out by t-SNE "
            f"(openTSNE, perplexity {reference.perplexity:g}). Stars: your molecules, placed with openTSNE's transform.")


def label_text(value: float) -> str:
    """A label or prediction as the map's hover shows it: two decimals, or "not measured"."""
    return "not measured" if np.isnan(value) else f"{value:.2f}"


def selected_table(reference: EmbeddingMap, selected: list[int], task: str) -> pd.DataFrame:
    k = reference.tasks.index(task)
    return pd.DataFrame({
        "id": [reference.ids[i] for i in selected],
        "smiles": [reference.smiles[i] for i in selected],
        "split": [SPLITS[reference.split[i]] for i in selected],
        f"measured {task}": [label_text(reference.labels[i, k]) for i in selected],
        f"predicted {task}": [reference.predictions[i, k] for i in selected],
    })


def selected_legends(reference: EmbeddingMap, selected: list[int], task: str) -> list[str]:
    k = reference.tasks.index(task)

    def measured(value: float) -> str:
        return label_text(value) if np.isnan(value) else f"measured {label_text(value)}"

    return [f"{reference.ids[i]} · {measured(reference.labels[i, k])} · predicted {label_text(reference.predictions[i, k])}"
            for i in selected]


def selection(panel: Panel, reference: EmbeddingMap, selected: list[int], task: str, count: int = 12) -> None:
    if not selected:
        st.caption("Select points on the map (lasso or box; click for one) to see their structures, labels and predictions here.")
        return
    st.subheader(f"{len(selected)} selected")
    shown = selected[:count]
    st.image(grid_svg([reference.smiles[i] for i in shown], selected_legends(reference, shown, task)), width="stretch")
    st.dataframe(selected_table(reference, selected, task), hide_index=True,
                 column_config={f"predicted {task}": st.column_config.NumberColumn(format="%.3f")})


def comparison_choices(panel: Panel, reference: EmbeddingMap) -> list[Panel]:
    """Other checkpoints with a map of the same molecules."""
    def same_molecules(other: EmbeddingMap) -> bool:
        return other.dataset == reference.dataset and other.ids == reference.ids

    return [p for p in panels_with_maps() if p.path != panel.path and same_molecules(resources.embedding_map(str(p.path)))]


FUSION_VIEWS = "GraSeq's graph-only, sequence-only and fused embeddings"  # the GraSeq paper's Fig. 4
VIEW_TITLES = {"graph": "Graph only (GraphSAGE)", "sequence": "Sequence only (BiLSTM over the SMILES order)",
               "": "Fused (what GraSeq predicts from)"}


def layout(panel: Panel, reference: EmbeddingMap) -> Panel | str | None:
    """What goes beside the map: another model's map of the same molecules (a Panel), the
    panel's own other embedding views (GraSeq: FUSION_VIEWS), or nothing."""
    others = comparison_choices(panel, reference)
    has_views = all(EmbeddingMap.exists(panel.path, view) for view in ("graph", "sequence"))
    options = ([FUSION_VIEWS] if has_views else []) + [p.title for p in others]
    if not options:
        return None
    chosen = st.selectbox("Compare with", ["—", *options], key=state.MAP_COMPARE)
    if chosen == FUSION_VIEWS:
        return FUSION_VIEWS
    titles = [p.title for p in others]
    return others[titles.index(chosen)] if chosen in titles else None


def maps(settings: Settings, reference: EmbeddingMap, what: str, task: str, mine: list[tuple[str, str]], beside: Panel | str | None) -> list[int]:
    """The map (and what is beside it); returns the reference indices selected on any of them."""
    panel, threshold = settings.panel, settings.threshold(task)
    if beside is None:
        return chart(panel, reference, what, task, threshold, place(panel, mine), key="map-main")
    if beside == FUSION_VIEWS:
        selected: set[int] = set()
        for column, view in zip(st.columns(3), VIEW_TITLES):
            with column:
                st.markdown(f"**{VIEW_TITLES[view]}**")
                view_map = resources.embedding_map(str(panel.path), view)
                selected |= set(chart(panel, view_map, what, task, threshold, place(panel, mine, view), key=f"map-{view or 'fused'}", height=460))
        return sorted(selected)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{panel.title}**")
        selected = set(chart(panel, reference, what, task, threshold, place(panel, mine), key="map-main", height=520))
    with right:
        st.markdown(f"**{beside.title}**")
        other = resources.embedding_map(str(beside.path))
        selected |= set(chart(beside, other, what, task, threshold, place(beside, mine), key="map-compare", height=520))
    return sorted(selected)


def panel_map(settings: Settings) -> EmbeddingMap | None:
    if not EmbeddingMap.exists(settings.panel.path):
        titles = ", ".join(p.title for p in panels_with_maps()) or "none"
        st.info(f"This checkpoint has no embedding map. Panels with one: {titles}. "
                f"Build one with `python -m molapp.cli.build_map --checkpoint {settings.panel.path.name}`.")
        return None
    return resources.embedding_map(str(settings.panel.path))
