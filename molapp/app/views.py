"""The blocks the Predict page is made of: input, molecule card, results, applicability
domain, and why — attention (2D and 3D), clusters, the fusion gate or task dependencies.
Each takes what it shows and draws it."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit_jsme import st_jsme

from molapp.app import resources, state
from molapp.app.examples import EXAMPLES, EXAMPLES_BY_NAME
from molapp.app.panels import ROOT
from molapp.app.sidebar import Settings
from molapp.explain.explanation import DescriptorReading, Explanation, explain, explain_descriptors
from molapp.explain.clusters import atom_label, clusters as find_clusters, functional_groups
from molapp.explain.depict import (attention_spheres, cluster_colours, cluster_spheres, clusters_svg, conformer,
                                   molecule_svg, three_dmol_url, viewer_html, weights_svg)
from molapp.inference.predictor import Predictor
from molapp.models.consensus import FEATURES_IN_WORDS
from molapp.models.registry import descriptors_added, explanation_kind, is_assembled, model_title

DOMAIN_SIMILARITY_THRESHOLD = 0.35  # below this max Tanimoto (Morgan r2) the molecule is "outside the domain"
INPUT_MODES = ["Paste SMILES", "Draw", "Examples"]
MAX_SMILES_CHARS = 2000  # far beyond any molecule the models take (250 heavy atoms); bounds the work one box can ask


def molecule_input() -> tuple[str, str]:
    """The molecule to predict, as (name, SMILES), from the SMILES box, the editor or the
    example picker. The editor starts from the molecule last shown."""
    current_name, current_smiles = st.session_state.get(state.MOLECULE, (EXAMPLES[0].name, EXAMPLES[0].smiles))
    mode = st.radio("Input", INPUT_MODES, horizontal=True, key=state.INPUT_MODE, label_visibility="collapsed")
    if mode == "Paste SMILES":
        text = st.text_input("SMILES", value=current_smiles, key=state.SMILES_TEXT, placeholder="e.g. CC(=O)Oc1ccccc1C(=O)O",
                             max_chars=MAX_SMILES_CHARS)
        chosen = (current_name if text == current_smiles else "pasted", text)
    elif mode == "Draw":
        st.caption("Draw or edit the structure, then press **Apply**.")
        drawn = st_jsme(current_smiles, key=state.EDITOR)
        chosen = ("drawn", drawn) if drawn else (current_name, current_smiles)
    else:
        name = st.selectbox("Teaching molecule", [e.name for e in EXAMPLES], key=state.EXAMPLE)
        example = EXAMPLES_BY_NAME[name]
        st.caption(example.note)
        chosen = (example.name, example.smiles)
    st.session_state[state.MOLECULE] = chosen
    return chosen


@st.cache_data(max_entries=128, show_spinner=False)
def _explain(checkpoint: str, smiles: str, tasks: tuple[str, ...], _predictor: Predictor) -> Explanation:
    return explain(_predictor, smiles, list(tasks))


def explanation(settings: Settings, smiles: str) -> Explanation:
    """Predictions and attention for the chosen tasks, one forward pass, cached per input."""
    return _explain(str(settings.panel.path), smiles, tuple(settings.tasks), settings.predictor)


# Characters Streamlit's markdown would read as formatting, links, HTML, LaTeX or colour
# directives; escaped, user text and reasons quoting it show as written.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>$~:])")


def escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def input_error(name: str, smiles: str, result: Explanation) -> None:
    """The reason, as plain text, and the input as given, in a code block: neither is read
    as markdown."""
    st.error(f"Cannot predict {escape_markdown(name)}: {escape_markdown(result.error)}.")
    st.code(smiles if smiles.strip() else "(empty)", language=None)


def standardization_warning(result: Explanation) -> None:
    """What standardization changed, where it cannot be missed: the predictions are for the
    standardized molecule, not for the input as given."""
    if result.changes:
        st.warning("Predicted for the standardized molecule, not the input as given: "
                   + "; ".join(escape_markdown(c) for c in result.changes) + ".")


def molecule_card(name: str, result: Explanation) -> None:
    standardization_warning(result)
    picture, facts = st.columns([3, 2])
    picture.image(molecule_svg(result.mol), width=360)
    with facts:
        st.subheader(name)
        st.code(result.canonical_smiles, language=None)
        st.caption(f"{result.mol.GetNumAtoms()} heavy atoms · predicted on {result.device} in {result.seconds * 1000:.0f} ms")


def measured_labels(settings: Settings, result: Explanation) -> dict[str, float]:
    """Labels measured for this very molecule (same standardized structure) in the panel's training data."""
    return resources.domain_index(str(settings.panel.path)).measured(result.canonical_smiles)


def results_table(settings: Settings, result: Explanation, measured: dict[str, float]) -> pd.DataFrame:
    panel, calls = settings.panel, settings.calls
    classification = panel.card.task_type == "classification"
    values = np.asarray(result.values, dtype=np.float32)[None, :]
    percentile = calls.percentile(values, result.tasks)[0] if calls is not None else None
    lift = calls.lift(values, result.tasks)[0] if calls is not None and classification else None
    rows = []
    for q, (task, value) in enumerate(zip(result.tasks, result.values)):
        row = {"task": task, "assay": panel.task_label(task)}
        if classification:
            threshold = settings.threshold(task)
            row["probability"] = float(value)
            row["call"] = "active" if value >= threshold else "inactive"
            row["threshold"] = threshold
            if calls is not None:
                row["base rate"] = float(calls.base_rate[calls.tasks.index(task)])
                row["lift"] = float(lift[q])
        else:
            row["prediction"] = float(value)
            row["units"] = panel.units(task)
        if percentile is not None:
            row["approved-drug percentile"] = float(percentile[q])
        if measured:
            row["measured"] = describe_label(measured.get(task), classification)
        row[f"test {'ROC-AUC' if classification else 'RMSE'}"] = panel.test_metric(task)
        if result.member_values is not None:  # an ensemble: how far apart its members' predictions are
            row["members' range"] = f"{result.member_values[:, q].min():.{3 if classification else 2}f} … {result.member_values[:, q].max():.{3 if classification else 2}f}"
        rows.append(row)
    return pd.DataFrame(rows)


def describe_label(value: float | None, classification: bool) -> str:
    """A measured label as a chemist reads it: active/inactive, or the value; – when not measured."""
    if value is None:
        return "–"
    return ("active" if value >= 0.5 else "inactive") if classification else f"{value:.2f}"


def results(settings: Settings, result: Explanation, name: str) -> None:
    st.subheader("Predictions")
    measured = measured_labels(settings, result)
    classification = settings.panel.card.task_type == "classification"
    if measured:
        shown = ", ".join(f"{t} {describe_label(v, classification)}" for t, v in measured.items() if t in result.tasks)
        st.info(f"**Measured**: this molecule is in the panel's training data. Its measured labels: {shown or 'none for the chosen tasks'}. "
                "The predictions below were fitted to them; the measurement is what to trust.")
    table = results_table(settings, result, measured)
    value_column = "probability" if classification else "prediction"
    chart, numbers = st.columns([2, 3])  # the table has the more columns
    colours = ["#c0392b" if c == "active" else "#7f8c8d" for c in table.get("call", ["inactive"] * len(table))]
    figure = go.Figure(go.Bar(x=table[value_column], y=table["task"], orientation="h", marker_color=colours,
                              hovertext=table["assay"], hovertemplate="%{hovertext}<br>%{x:.3f}<extra></extra>"))
    if classification:  # each task's threshold, as a tick on its bar
        figure.add_trace(go.Scatter(x=table["threshold"], y=table["task"], mode="markers", name="threshold",
                                    marker=dict(symbol="line-ns-open", size=18, color="#34495e", line=dict(width=2)),
                                    hovertemplate="threshold %{x:.3f}<extra></extra>"))
        figure.update_xaxes(range=[0, 1], title="probability (tick: the task's call threshold)")
    else:
        figure.update_xaxes(title=", ".join(sorted(set(table["units"]))) or "prediction")
    figure.update_layout(height=80 + 28 * len(table), margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(autorange="reversed"), showlegend=False)
    chart.plotly_chart(figure, width="stretch", key="results-chart")
    numbers.dataframe(
        table.drop(columns=["assay"]),
        hide_index=True,
        column_config={"probability": st.column_config.ProgressColumn("probability", format="%.3f", min_value=0, max_value=1),
                       "prediction": st.column_config.NumberColumn(format="%.2f"),
                       "threshold": st.column_config.NumberColumn(format="%.3f", help="Called active at or above this probability: the task's default "
                                                                  "(maximum F1 on validation molecules) unless overridden in the sidebar"),
                       "base rate": st.column_config.NumberColumn(format="%.3f", help="Fraction of actives among the training molecules measured in this assay"),
                       "lift": st.column_config.NumberColumn(format="%.1f×", help="The probability over the base rate: how much likelier than a typical training molecule"),
                       "approved-drug percentile": st.column_config.NumberColumn(format="%.0f", help="Percent of FDA-approved drugs (ClinTox) this model predicts lower"),
                       "measured": st.column_config.TextColumn(help="The label measured for this molecule in the panel's training data"),
                       "test ROC-AUC": st.column_config.NumberColumn(format="%.3f", help="The model's ROC-AUC for this task on its test split"),
                       "test RMSE": st.column_config.NumberColumn(format="%.3f", help="The model's root-mean-square error on its test split, in the task's units"),
                       "members' range": st.column_config.TextColumn(help="An ensemble: the lowest and highest of its members' predictions")},
    )
    export = table.assign(molecule=name, input_smiles=result.input_smiles, canonical_smiles=result.canonical_smiles)
    buffer = io.StringIO()
    export.to_csv(buffer, index=False)
    st.download_button("Download results (CSV)", buffer.getvalue(), file_name="molapp-predictions.csv", mime="text/csv")


@st.cache_data(max_entries=256, show_spinner=False)
def _nearest(checkpoint: str, canonical_smiles: str) -> list:
    # Searching the whole training index is the page's costliest step: once per molecule, not per rerun.
    return resources.domain_index(checkpoint).nearest(canonical_smiles, k=5)


def applicability_domain(settings: Settings, result: Explanation) -> None:
    st.subheader("Applicability domain")
    neighbours = _nearest(str(settings.panel.path), result.canonical_smiles)
    best = neighbours[0].similarity if neighbours else 0.0
    if best < DOMAIN_SIMILARITY_THRESHOLD:
        st.warning(f"Outside the training domain: the most similar training molecule has Tanimoto similarity "
                   f"{best:.2f} (below {DOMAIN_SIMILARITY_THRESHOLD}). Treat these predictions with caution.")
    else:
        st.success(f"Within the training domain: nearest training molecule at Tanimoto similarity {best:.2f}.")
    classification = settings.panel.card.task_type == "classification"
    rows = [{"training molecule": n.smiles, "similarity": round(n.similarity, 3),
             **{t: describe_label(n.labels.get(t), classification) for t in result.tasks}} for n in neighbours]
    st.caption("Nearest training-set molecules (Morgan radius 2, 2048 bits) and their measured labels (–: not measured).")
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def _hop_choice(hops: int) -> int | None:
    options = ["average over hops"] + [f"hop {t}" for t in range(1, hops + 1)]
    choice = st.select_slider("Reasoning step", options, value=options[0], key=state.HOP)
    return None if choice == options[0] else int(choice.split()[1])


def top_atoms(result: Explanation, weights: np.ndarray, count: int = 8) -> pd.DataFrame:
    order = np.argsort(-weights)[:count]
    atoms = [result.mol.GetAtomWithIdx(int(i)) for i in order]
    return pd.DataFrame({
        "atom": [f"{a.GetSymbol()}{a.GetIdx()}" for a in atoms],
        "aromatic": [a.GetIsAromatic() for a in atoms],
        "neighbours": [", ".join(f"{n.GetSymbol()}{n.GetIdx()}" for n in a.GetNeighbors()) for a in atoms],
        "weight": [round(float(weights[i]), 4) for i in order],
        "× uniform": [round(float(weights[i]) * len(weights), 2) for i in order],
    })


def _whose(settings: Settings) -> str:
    """Whose prediction an explanation belongs to: the panel's, or, for an ensemble, its first
    member's; for a consensus, its GraphMem member's."""
    if is_assembled(settings.panel.card.model):
        return "the consensus's GraphMem member's prediction was"
    return "the ensemble's first member's prediction was" if settings.panel.card.ensemble_size > 1 else "the predictions above were"


def viewer_3d(result: Explanation, spheres: list[dict], height: int) -> None:
    """The molecule's 3D conformer with a sphere per heavy atom, or why there is none
    (embedding failed, or took longer than the per-molecule limit)."""
    made = conformer(result.canonical_smiles)
    if made.molblock:
        st.iframe(viewer_html(made.molblock, spheres, three_dmol_url(ROOT)), height=height)
    else:
        st.info(made.skipped + ".")


def attention(settings: Settings, result: Explanation) -> None:
    st.subheader("Why: where GraphMem looked")
    descriptors = (f" The controller also started from {settings.panel.card.config['descriptor_dim']} whole-molecule RDKit "
                   "descriptors (logP, TPSA, charge surface areas, ring and atom counts), which the attention does not show."
                   if descriptors_added(settings.panel.card) else "")
    st.caption("Attention p of the controller over the atoms (memory cells) at each reasoning step, for a task query. "
               f"These are the weights {_whose(settings)} computed with. Uniform attention would give every atom 1/N.{descriptors}")
    labels = {t: settings.panel.task_label(t) for t in result.tasks}
    first, second = st.columns(2)
    task = first.selectbox("Task query", result.tasks, format_func=labels.get, key=state.ATTENTION_TASK)
    others = [t for t in result.tasks if t != task] or result.tasks
    compare = second.selectbox("Compare with", others, format_func=labels.get, key=state.COMPARE_TASK)
    hop = _hop_choice(result.attention.shape[0])
    step = "averaged over hops" if hop is None else f"hop {hop}"
    left, right = st.columns(2)
    for column, shown in ((left, task), (right, compare)):
        weights = result.attention_for(shown, hop)
        value = result.values[result.tasks.index(shown)]
        column.markdown(f"**{labels[shown]}** · prediction {value:.3f} · {step}")
        column.image(weights_svg(result.mol, weights), width=420)
    weights = result.attention_for(task, hop)
    table, viewer = st.columns([2, 3])
    with table:
        st.markdown(f"**Most attended atoms — {task}**")
        st.dataframe(top_atoms(result, weights), hide_index=True)
    with viewer:
        st.markdown(f"**3D — {task}, {step}** (sphere colour and size: attention)")
        viewer_3d(result, attention_spheres(weights), height=360)
    if descriptors_added(settings.panel.card):
        descriptor_reading(settings, result, task)


@st.cache_data(max_entries=128, show_spinner=False)
def _descriptor_reading(checkpoint: str, canonical_smiles: str, task: str, _predictor: Predictor) -> DescriptorReading:
    return explain_descriptors(_predictor, canonical_smiles, task)


def descriptor_reading(settings: Settings, result: Explanation, task: str, shown: int = 10) -> None:
    reading = _descriptor_reading(str(settings.panel.path), result.canonical_smiles, task, settings.predictor)
    output = "logit of the probability" if settings.panel.card.task_type == "classification" else "standardized value"
    st.markdown(f"**Whole-molecule descriptors — {settings.panel.task_label(task)}**")
    st.caption(f"How much each descriptor moved this prediction ({output}), from where the training set's average "
               f"descriptors would have put it, this molecule's graph held fixed (integrated gradients; the contributions "
               f"add up to {reading.gap:+.2f}). Red pushes toward active / higher, blue away."
               + (" For the ensemble's mean output." if settings.panel.card.ensemble_size > 1 else ""))
    top = reading.table.head(shown).iloc[::-1]
    figure = go.Figure(go.Bar(x=top["contribution"], y=top["meaning"], orientation="h",
                              marker_color=["#c0392b" if v > 0 else "#2e6da4" for v in top["contribution"]],
                              customdata=top[["this molecule", "training average"]],
                              hovertemplate="%{y}: %{x:+.3f}<br>this molecule %{customdata[0]}, training average %{customdata[1]}<extra></extra>"))
    figure.update_layout(height=40 + 28 * len(top), margin=dict(l=10, r=10, t=10, b=30), xaxis=dict(title=f"contribution ({output})"))
    st.plotly_chart(figure, key="descriptor-contributions")
    with st.expander(f"All {len(reading.table)} descriptors"):
        st.dataframe(reading.table.round(3), hide_index=True)


def cluster_table(result: Explanation, assignment: np.ndarray, groups: list) -> pd.DataFrame:
    found = find_clusters(result.mol, assignment, groups)
    colours = cluster_colours(assignment.argmax(1))
    rows = []
    for cluster in found:
        exact = [g.name for g in cluster.is_group]
        inside = [g.name for g in cluster.holds if g not in cluster.is_group]
        rows.append({
            "colour": colours[cluster.key],
            "cluster": f"key {cluster.key}",
            "atoms": ", ".join(atom_label(result.mol, i) for i in cluster.atoms),
            "strength": round(cluster.strength, 2),
            "is exactly": ", ".join(exact) or "–",
            "holds": ", ".join(dict.fromkeys(inside)) or "–",
        })
    return pd.DataFrame(rows)


def _layer_choice(layers: int) -> int:
    if layers == 1:
        return 0
    options = [f"layer {i + 1}" for i in range(layers)]
    return options.index(st.radio("Memory layer", options, horizontal=True, key=state.MEMORY_LAYER))


def clusters(settings: Settings, result: Explanation) -> None:
    model = model_title(settings.panel.card.model)
    st.subheader(f"Why: how {model} grouped the atoms")
    st.caption("Each memory layer assigns every atom softly to its memory keys (cluster centroids) and pools each cluster "
               "into one node. Atoms are coloured by their strongest cluster, paler where the assignment is weaker; bonds "
               f"inside a cluster take its colour. These are the assignments {_whose(settings)} computed with.")
    layer = _layer_choice(len(result.assignments))
    assignment = result.assignments[layer]
    found_groups = functional_groups(result.mol)  # SMARTS matching once per rerun, for the table and the count
    table = cluster_table(result, assignment, found_groups)
    groups = sum(1 for g in found_groups if len(g.atoms) >= 2)
    exact = int((table["is exactly"] != "–").sum())
    picture, viewer = st.columns(2)
    picture.markdown("**2D** (atom numbers as in the table)")
    picture.image(clusters_svg(result.mol, assignment), width=420)
    with viewer:
        st.markdown("**3D — the same clusters** (sphere colour: cluster; opacity: assignment strength)")
        viewer_3d(result, cluster_spheres(assignment), height=320)
    st.markdown(f"**{len(table)} clusters** of {assignment.shape[1]} keys used · {exact} of them exactly a functional group "
                f"· {groups} multi-atom groups in the molecule (RDKit SMARTS)")
    st.dataframe(
        table.style.apply(lambda column: [f"background-color: {c}; color: {c}" for c in column], subset=["colour"]),
        hide_index=True,
        column_config={
            "colour": st.column_config.TextColumn(width="small"),
            "strength": st.column_config.NumberColumn(format="%.2f", help="Mean assignment of the cluster's atoms to their key (1: certain; 1/keys: no preference)"),
            "is exactly": st.column_config.TextColumn(help="The cluster's atoms are exactly this functional group (one or more matches of it)"),
            "holds": st.column_config.TextColumn(help="Functional groups lying wholly inside the cluster"),
        },
    )


def fusion(settings: Settings, result: Explanation) -> None:
    st.subheader("Why: graph or SMILES sequence")
    st.caption("GraSeq reads the molecule twice — as a graph (GraphSAGE over the bonds) and as a sequence (a BiLSTM over "
               "the atoms in the order the SMILES string writes them) — and a learned gate F mixes the two embeddings "
               "dimension by dimension: h = F·graph + (1 − F)·sequence. This is the gate the predictions above used.")
    picture, gate = st.columns(2)
    picture.markdown("**The sequence the BiLSTM reads** (atom numbers = order in the canonical SMILES)")
    picture.image(molecule_svg(result.mol, atom_numbers=True), width=420)
    picture.code(result.canonical_smiles, language=None)
    with gate:
        if result.gate is None:
            st.info("This GraSeq variant has no fusion gate: it concatenates the graph and sequence embeddings.")
            return
        share = float(result.gate.mean())
        st.metric("From the graph", f"{share:.0%}", help="Mean of the gate F over the embedding's dimensions")
        st.metric("From the SMILES sequence", f"{1 - share:.0%}")
        st.plotly_chart(gate_figure(result.gate), key="fusion-gate")


def gate_figure(gate: np.ndarray) -> go.Figure:
    order = np.argsort(-gate)
    figure = go.Figure(go.Bar(x=np.arange(len(gate)), y=gate[order], marker_color="#4C78A8",
                              customdata=order, hovertemplate="dimension %{customdata}: F = %{y:.2f}<extra></extra>"))
    figure.add_hline(y=0.5, line_dash="dot", line_color="grey")
    figure.update_layout(height=220, margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(title="gate F", range=[0, 1]),
                         xaxis=dict(title="embedding dimensions, most graph-driven first", showticklabels=False))
    return figure


def task_dependency(settings: Settings, result: Explanation) -> None:
    st.subheader("Why: which tasks this model learned from which")
    st.caption("The transfer model encodes the molecule once per task, carries each task's atom embeddings over to the "
               "others, and merges them with learned task-dependency weights. Row j: how much each task's knowledge "
               "feeds the prediction for task j (each row sums to 1). These weights are the same for every molecule.")
    matrix, uniform = result.task_dependency, 1.0 / result.task_dependency.shape[0]
    st.caption(f"White is an even share (1/{matrix.shape[0]} = {uniform:.3f}); red, more than even; blue, less. "
               f"This model's weights run from {matrix.min():.3f} to {matrix.max():.3f}.")
    st.plotly_chart(dependency_figure(settings, result.task_dependency), key="task-dependency")
    tasks = settings.panel.card.tasks
    rows = []
    for task in result.tasks:
        weights = result.task_dependency[tasks.index(task)]
        helpers = [i for i in np.argsort(-weights) if tasks[i] != task][:3]
        rows.append({"task": settings.panel.task_label(task), "own weight": round(float(weights[tasks.index(task)]), 3),
                     "helped most by": ", ".join(f"{tasks[i]} ({weights[i]:.3f})" for i in helpers)})
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def dependency_figure(settings: Settings, matrix: np.ndarray) -> go.Figure:
    tasks = settings.panel.card.tasks
    # Diverging around the even share 1/k, so that which tasks lean on which shows even when
    # the weights are close to even (the caption gives their range).
    figure = go.Figure(go.Heatmap(z=matrix, x=tasks, y=tasks, colorscale="RdBu", reversescale=True, zmid=1.0 / len(matrix),
                                  hovertemplate="%{x} → %{y}: %{z:.3f}<extra></extra>", colorbar=dict(title="weight")))
    figure.update_layout(height=max(320, 28 * len(tasks) + 120), margin=dict(l=10, r=10, t=10, b=10),
                         xaxis=dict(title="helping task (source)", tickangle=-45), yaxis=dict(title="task predicted", autorange="reversed"))
    return figure


def consensus(settings: Settings) -> None:
    """What a consensus's predictions and explanation are: its sources, and whose attention follows."""
    card = settings.panel.card
    graph = card.config["members"]
    sources = ", ".join([model_title(m["kind"]) + (f" (ensemble of {m['ensemble_size']})" if m["ensemble_size"] > 1 else "") for m in graph]
                        + [f"a random forest on {FEATURES_IN_WORDS[f['features']]}" for f in card.config["forests"]])
    first = graph[0]
    whose = f"its GraphMem's (the first of that ensemble's {first['ensemble_size']} models)" if first["ensemble_size"] > 1 else "its GraphMem's"
    st.info(f"This panel is a consensus of {sources}. Each one's score becomes its percentile among ClinTox's approved drugs; "
            f"the predictions above are the calibrated mean of those percentiles. The explanation below is {whose}: "
            "the forests have no attention to show.")



def why(settings: Settings, result: Explanation) -> None:
    """The explanation the panel's model has: attention, clusters, fusion gate or task dependencies."""
    members = settings.panel.card.ensemble_size
    if is_assembled(settings.panel.card.model):
        consensus(settings)
    elif members > 1 and explanation_kind(settings.panel.card.model) != "none":
        first = settings.panel.card.members[0]
        alone = f"; alone, it scores {first.test:.3f} on the test split" if first.test is not None else ""  # a deployment member has no test rows
        st.info(f"This checkpoint is an ensemble of {members} models trained with different seeds: the predictions above "
                f"are their mean; the explanation below is its first model's (seed {first.seed}{alone}).")
    if result.attention is not None:
        attention(settings, result)
    elif result.assignments is not None:
        clusters(settings, result)
    elif result.task_dependency is not None:
        task_dependency(settings, result)
    elif explanation_kind(settings.panel.card.model) == "fusion":
        fusion(settings, result)
    else:
        st.caption(f"{model_title(settings.panel.card.model)} has no per-molecule "
                   "explanation view; its test-split ROC curves are on the Models page.")
