"""The blocks the Train page is made of: the data (an upload, or a shipped dataset) and its
check, the training choices, the background jobs with live progress, and the user's panels
(open, rename, delete, download, upload).

Training never runs in the Streamlit script: the page submits `python -m molapp.train …`
to `molapp.jobs.manager.JobManager`, which runs it in its own process and keeps its state
on disk, so a reload, another browser or a restarted server shows the same jobs.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from molapp.app import resources, state
from molapp.app.panels import Panel, list_user_panels
from molapp.app.text import escape_markdown
from molapp.app.user_panels import ArchiveError, delete_panel, export_archive, import_archive, rename_panel
from molapp.chem.io import SMILES_COLUMN_NAMES, guess_column
from molapp.data.registry import DATASETS, get_spec
from molapp.data.user_data import UPLOAD_LIMIT_MB, USER_SPLITS, UserData, check_user_data, data_columns, is_sdf
from molapp.jobs.home import molapp_home, panel_name_problem
from molapp.jobs.manager import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job, JobManager
from molapp.models.registry import model_title
from molapp.training.presets import DEFAULT_PRESET, PRESETS, describe

SOURCES = ["Upload CSV or SDF", "A shipped dataset"]
USER_MODEL_KINDS = ["graphmem", "memgnn", "gmn", "graseq", "gcn"]  # what a user's panel can be; GraphMem first (the default)
METRIC_NAMES = {"roc_auc": "ROC-AUC", "rmse": "RMSE"}
JOBS_SHOWN = 8
REFRESH_SECONDS = 2.0


@dataclass
class TrainingRequest:
    """What the page would submit: the panel's name, the train command's arguments, and the
    data file the job takes a copy of (None for a shipped dataset)."""

    name: str
    args: list[str]
    data_file: Path | None
    title: str
    patience: int


def manager() -> JobManager:
    return JobManager()


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "panel"
    return slug[:64] if slug[0].isalnum() else f"p{slug}"[:64]


def _saved_upload(upload) -> Path:
    """The upload written once under MOLAPP_HOME/uploads/<hash>/ (the check and the job read
    a file), under its own name with odd characters replaced."""
    content = upload.getvalue()
    digest = hashlib.sha256(content).hexdigest()[:16]
    folder = molapp_home() / "uploads" / digest
    suffix = Path(upload.name).suffix.lower()
    path = folder / (_slug(Path(upload.name).stem) + suffix)
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return path


def data_choice() -> tuple[str, Path | None, str | None]:
    """("upload", saved file, display name) or ("dataset", None, dataset name), or None values
    while nothing is chosen."""
    source = st.radio("Data", SOURCES, horizontal=True, key=state.TRAIN_SOURCE, label_visibility="collapsed")
    if source == SOURCES[1]:
        names = list(DATASETS)
        name = st.selectbox("Dataset", names, format_func=lambda n: f"{n} — {get_spec(n).description}", key=state.TRAIN_DATASET)
        return "dataset", None, name
    upload = st.file_uploader(f"Your labelled molecules: a CSV with a SMILES column, or an SDF (up to {UPLOAD_LIMIT_MB} MB)",
                              type=["csv", "sdf", "sd"], key=state.TRAIN_UPLOAD)
    if upload is None:
        st.caption("Each row a molecule and its measured values: one column per target. Classification targets hold 0/1, "
                   "active/inactive or true/false; regression targets hold numbers. Blank cells are 'not measured'.")
        return "upload", None, None
    if upload.size > UPLOAD_LIMIT_MB * 1_000_000:
        st.error(f"**{escape_markdown(upload.name)}** is {upload.size / 1e6:.1f} MB, over the {UPLOAD_LIMIT_MB} MB upload limit: "
                 "train on it with `python -m molapp.train --data FILE …` instead.")
        return "upload", None, None
    return "upload", _saved_upload(upload), upload.name


def columns_choice(path: Path, display_name: str) -> tuple[str | None, list[str]] | None:
    """The SMILES column (None for an SDF: its structures) and the targets; None if unreadable."""
    try:
        columns = data_columns(path)
    except (ValueError, OSError) as exc:
        st.error(f"Cannot read **{escape_markdown(display_name)}**: {escape_markdown(str(exc).replace(str(path), display_name))}")
        return None
    left, right = st.columns([1, 2])
    smiles_column = None
    if not is_sdf(path):
        guess = guess_column(columns, SMILES_COLUMN_NAMES)
        smiles_column = left.selectbox("SMILES column", columns, index=columns.index(guess) if guess else 0, key=state.TRAIN_SMILES_COLUMN)
    else:
        left.caption("Structures: each SDF record's molecule. Targets: its SD properties.")
    options = [c for c in columns if c != smiles_column]
    targets = right.multiselect("Targets (one or more columns to learn)", options, key=state.TRAIN_TARGETS,
                                help="Classification or regression is read from the values.")
    return smiles_column, targets


def dataset_targets(name: str) -> list[str]:
    spec = get_spec(name)
    return st.multiselect(f"Tasks of {name} (none: all {len(spec.tasks)})", spec.tasks, key=state.TRAIN_DATASET_TARGETS,
                          format_func=spec.label)


def checked(path: Path, display_name: str, smiles_column: str | None, targets: list[str], split: str, seed: int) -> UserData:
    """The data check, once per file and choice (every rerun of the page would redo it)."""
    key = (str(path), smiles_column, tuple(targets), split, seed)
    cached = st.session_state.get(state.TRAIN_CHECK)
    if cached is None or cached["key"] != key:
        with st.spinner("Checking every row…"):
            data = check_user_data(path, smiles_column, targets, split, seed, name=_slug(Path(display_name).stem),
                                   max_bytes=UPLOAD_LIMIT_MB * 1_000_000, display_name=display_name)
        cached = {"key": key, "data": data}
        st.session_state[state.TRAIN_CHECK] = cached
    return cached["data"]


def report(data: UserData) -> None:
    """The check's findings, each with its rows: blocking ones as errors, handled ones as warnings."""
    for problem in data.report.errors:
        st.error(escape_markdown(problem.message), icon=":material/block:")
    for problem in data.report.notes:
        st.warning(escape_markdown(problem.message), icon=":material/warning:")
        if problem.details:
            with st.expander(f"Rows: {problem.kind.replace('_', ' ')}"):
                st.dataframe(pd.DataFrame([{k: (", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in d.items()}
                                           for d in problem.details]), hide_index=True)
    if data.report.ok:
        types = data.report.task_types
        kinds = ", ".join(f"{t} ({types[t]})" for t in data.targets)
        st.success(f"{data.report.molecules:,} molecules ready from {data.report.rows_read:,} rows — targets: {escape_markdown(kinds)}.",
                   icon=":material/check_circle:")


def units_inputs(data: UserData) -> list[str]:
    """Units of each regression target, typed by the user (shown beside every prediction)."""
    if data.spec.task_type != "regression":
        return []
    columns = st.columns(min(4, len(data.targets)))
    return [columns[k % len(columns)].text_input(f"Units of {t}", key=f"{state.TRAIN_UNITS}.{t}", placeholder="e.g. log M, µM, %")
            for k, t in enumerate(data.targets)]


def training_choices(allow_descriptors: bool = True) -> tuple[str, str, str, list[str], int]:
    """Model kind, split, preset, the advanced flags that differ from the preset, and the seed."""
    left, middle = st.columns(2)
    kind = left.selectbox("Model", USER_MODEL_KINDS, format_func=model_title, key=state.TRAIN_MODEL,
                          help="GraphMem explains with attention over atoms; MemGNN/GMN with atom clusters; GraSeq with its graph/sequence gate; "
                               "GCN is the plain baseline.")
    split = middle.radio("Split", USER_SPLITS[::-1], horizontal=True, key=state.TRAIN_SPLIT,
                         help="Scaffold: test molecules have scaffolds never seen in training (an honest estimate for new chemistry). "
                              "Random: an estimate for molecules like the training ones.")
    preset = st.radio("Budget", list(PRESETS), index=list(PRESETS).index(DEFAULT_PRESET), horizontal=True, key=state.TRAIN_PRESET,
                      captions=[describe(p).split(": ", 1)[1] for p in PRESETS])
    flags: list[str] = []
    seed = 0
    with st.expander("Advanced"):
        chosen = PRESETS[preset]
        a, b, c, d = st.columns(4)
        values = {
            "max-epochs": a.number_input("Max epochs", 1, 1000, chosen.max_epochs, key=f"{state.TRAIN_ADVANCED}.epochs.{preset}"),
            "patience": b.number_input("Patience", 1, 1000, chosen.patience, key=f"{state.TRAIN_ADVANCED}.patience.{preset}"),
            "hidden": c.number_input("Hidden size", 8, 512, chosen.hidden, key=f"{state.TRAIN_ADVANCED}.hidden.{preset}"),
            "hops": d.number_input("Hops (GraphMem)", 1, 12, chosen.hops, key=f"{state.TRAIN_ADVANCED}.hops.{preset}"),
        }
        defaults = {"max-epochs": chosen.max_epochs, "patience": chosen.patience, "hidden": chosen.hidden, "hops": chosen.hops}
        flags += [x for flag, value in values.items() if value != defaults[flag] for x in (f"--{flag}", str(int(value)))]
        e, f, g, _ = st.columns(4)
        learning_rate = e.number_input("Learning rate", 1e-5, 1e-1, 1e-3, format="%.5f", key=f"{state.TRAIN_ADVANCED}.lr")
        batch_size = f.number_input("Batch size", 4, 1024, 64, key=f"{state.TRAIN_ADVANCED}.batch")
        seed = int(g.number_input("Seed", 0, 10_000, 0, key=f"{state.TRAIN_ADVANCED}.seed"))
        if learning_rate != 1e-3:
            flags += ["--learning-rate", f"{learning_rate:g}"]
        if batch_size != 64:
            flags += ["--batch-size", str(int(batch_size))]
        if seed:
            flags += ["--seed", str(seed)]
        if allow_descriptors and kind == "graphmem" and st.checkbox("GraphMem also reads 70 RDKit descriptors of the whole molecule",
                                                                      key=f"{state.TRAIN_ADVANCED}.descriptors"):
            flags.append("--descriptors")
    return kind, split, preset, flags, seed


def panel_name(default: str, jobs: JobManager) -> str | None:
    name = st.text_input("Panel name", value=default, key=f"{state.TRAIN_PANEL_NAME}.{default}", max_chars=64)
    problem = panel_name_problem(name) or (f"a panel or job is already called **{escape_markdown(name)}**" if name in jobs.names_in_use() else "")
    if problem:
        st.caption(f":red[{problem}]")
        return None
    return name


def submit(request: TrainingRequest) -> None:
    try:
        job = manager().submit(request.name, request.args, request.data_file, request.title, request.patience)
    except ValueError as exc:
        st.error(escape_markdown(str(exc)))
        return
    st.session_state[state.TRAIN_ACTIVE] = set(st.session_state.get(state.TRAIN_ACTIVE, set())) | {job.id}
    st.toast(f"Training {request.name} in the background", icon=":material/model_training:")


def request_form() -> TrainingRequest | None:
    """The whole form: data, its check, the choices, the panel's name; the request, or None
    while something is missing or wrong (the page says what)."""
    jobs = manager()
    source, path, display = data_choice()
    if source == "dataset":
        dataset = display
        targets = dataset_targets(dataset)
        kind, split, preset, flags, _ = training_choices()
        name = panel_name(_slug(f"{kind}-{dataset}" + (f"-{'-'.join(targets)}" if targets else "")), jobs)
        if name is None:
            return None
        args = ["--dataset", dataset, *(["--targets", *targets] if targets else []), "--model", kind, "--split", split, "--preset", preset, "--panel", *flags]
        return TrainingRequest(name, args, None, f"{model_title(kind)} on {dataset}", _patience(preset, flags))
    if path is None:
        return None
    chosen = columns_choice(path, display)
    if chosen is None:
        return None
    smiles_column, targets = chosen
    if not targets:
        st.info("Choose the target column(s) to learn.")
        return None
    kind, split, preset, flags, seed = training_choices()
    data = checked(path, display, smiles_column, targets, split, seed)
    report(data)
    if not data.report.ok:
        return None
    units = units_inputs(data)
    name = panel_name(_slug(Path(display).stem), jobs)
    if name is None:
        return None
    args = ["--data", "{data}", *(["--smiles-column", smiles_column] if smiles_column else []), "--targets", *targets,
            "--name", data.spec.name, "--model", kind, "--split", split, "--preset", preset, *flags]
    if units and any(units):
        args += ["--units", *[u or "" for u in units]]
    return TrainingRequest(name, args, path, f"{model_title(kind)} on {display}", _patience(preset, flags))


def _patience(preset: str, flags: list[str]) -> int:
    return int(flags[flags.index("--patience") + 1]) if "--patience" in flags else PRESETS[preset].patience


def train_button(request: TrainingRequest | None) -> None:
    if st.button("Train", type="primary", disabled=request is None, icon=":material/model_training:", key=state.TRAIN_BUTTON) and request:
        submit(request)


# --- jobs ---------------------------------------------------------------------------------

def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min" if seconds >= 3600 else f"{seconds // 60} min {seconds % 60:02d} s"


def curves(job: Job, metric: str | None) -> go.Figure:
    epochs = job.epochs()
    x = [e["epoch"] for e in epochs]
    figure = make_subplots(rows=1, cols=2, subplot_titles=("training loss", f"validation {METRIC_NAMES.get(metric, metric or 'metric')}"))
    figure.add_trace(go.Scatter(x=x, y=[e["loss"] for e in epochs], mode="lines+markers", name="loss"), row=1, col=1)
    figure.add_trace(go.Scatter(x=x, y=[e["valid"] for e in epochs], mode="lines+markers", name="valid"), row=1, col=2)
    best = epochs[-1].get("best_epoch") if epochs else None
    if best:
        figure.add_vline(x=best, line_dash="dot", line_color="grey", row=1, col=2)
    figure.update_layout(height=260, showlegend=False, margin=dict(l=10, r=10, t=40, b=10))
    figure.update_xaxes(title_text="epoch")
    return figure


def job_card(job: Job, jobs: JobManager) -> None:
    with st.container(border=True):
        head, actions = st.columns([4, 1])
        head.markdown(f"**{escape_markdown(job.name)}** · {escape_markdown(job.title)}")
        status = job.status
        if status == QUEUED:
            head.info(f"Queued: number {jobs.queue_position(job)} in line. This server trains {jobs.max_running} at a time.",
                      icon=":material/hourglass_top:")
        elif status == RUNNING:
            epochs = job.epochs()
            if epochs:
                last = epochs[-1]
                left = job.seconds_left()
                metric = METRIC_NAMES.get(job.metric() or "", "valid")
                note = (f"epoch {last['epoch']} of at most {last['max_epochs']} · loss {last['loss']:.3f} · "
                        f"{metric} {last['valid']:.3f} (best at epoch {last['best_epoch']}) · {_duration(last['seconds'])} so far")
                if left is not None:
                    note += f" · at most {_duration(left)} left (early stopping may end it sooner)"
                head.progress(min(1.0, last["epoch"] / max(1, last["max_epochs"])), text=note)
                head.plotly_chart(curves(job, job.metric()), key=f"train-curves-{job.id}", width="stretch")
            else:
                head.progress(0.0, text=f"{job.phase() or 'starting'}…")
            if epochs and job.phase() not in ("training", ""):
                head.caption(f"Training done; now {job.phase()}…")
        elif status == DONE:
            panel = job.state.get("panel", job.name)
            test = job.state.get("metrics", {}).get("test", {}).get("mean")
            head.success(f"Panel **{escape_markdown(panel)}** is ready" + (f": test {test:.3f}" if isinstance(test, float) else "") +
                         ". Choose it in the sidebar on Predict, Triage, Embedding map or Models.", icon=":material/check_circle:")
            if job.epochs():
                with head.expander("Training curves"):
                    st.plotly_chart(curves(job, job.metric()), key=f"train-curves-{job.id}", width="stretch")
        elif status == FAILED:
            head.error(f"Training failed: {escape_markdown(job.reason)}", icon=":material/error:")
        elif status == CANCELLED:
            head.caption("Cancelled.")
        if status in (QUEUED, RUNNING):
            if actions.button("Cancel", key=f"train-cancel-{job.id}", icon=":material/cancel:"):
                jobs.cancel(job.id)
                st.rerun()
        elif actions.button("Dismiss", key=f"train-dismiss-{job.id}", icon=":material/close:"):
            jobs.remove(job.id)
            st.rerun()


def jobs_view() -> None:
    """The job list; while a job is queued or running it refreshes itself every
    REFRESH_SECONDS, and the whole page reruns when one finishes (its panel joins the sidebar)."""
    jobs = manager()
    active = any(j.status in (QUEUED, RUNNING) for j in jobs.jobs())
    st.fragment(run_every=REFRESH_SECONDS if active else None)(_jobs_body)()


def _jobs_body() -> None:
    jobs = manager()
    jobs.schedule()  # a queued job whose slot freed while no runner was left to start it
    listed = jobs.jobs()
    active = {j.id for j in listed if j.status in (QUEUED, RUNNING)}
    before = set(st.session_state.get(state.TRAIN_ACTIVE, set()))
    st.session_state[state.TRAIN_ACTIVE] = active
    if before - active:  # a job finished: rerun the page so the sidebar lists its panel
        st.rerun()
    if not listed:
        st.caption("No training jobs yet.")
        return
    for job in listed[:JOBS_SHOWN]:
        job_card(job, jobs)
    if len(listed) > JOBS_SHOWN:
        st.caption(f"… and {len(listed) - JOBS_SHOWN} older jobs.")


# --- the user's panels ---------------------------------------------------------------------

def _forget_cached(panel: Path) -> None:
    """Loaded models and indexes are cached by folder: after a rename, delete or upload the
    folder may hold another panel."""
    for cached in (resources.predictor, resources.domain_index, resources.embedding_map, resources.task_calls):
        cached.clear()


def panel_summary(panel: Panel) -> str:
    card = panel.card
    data = card.data_file
    metric = METRIC_NAMES.get(card.metric, card.metric)
    test = card.metrics.get("test", {}).get("mean")
    valid = card.metrics.get("valid", {}).get("mean")
    sizes = next(iter(card.sizes.values()), {})
    parts = [f"{model_title(card.model)} on {escape_markdown((data.name if data else '') or ', '.join(card.datasets))}",
             f"{card.split} split ({sizes.get('train', '?')}/{sizes.get('valid', '?')}/{sizes.get('test', '?')})"]
    if isinstance(test, float):
        parts.append(f"test {metric} {test:.3f}, valid {valid:.3f}")
    if data and data.sha256:
        parts.append(f"SHA-256 {data.sha256[:12]}…")
    return " · ".join(parts)


def _choose_panel(title: str) -> None:
    """The sidebar's panel, set before the script reruns (a widget's value cannot change
    once the widget is drawn)."""
    st.session_state[state.PANEL] = title


def user_panels() -> None:
    panels = list_user_panels()
    if not panels:
        st.caption("None yet: train one above, or upload a panel's archive below.")
    for panel in panels:
        with st.container(border=True):
            st.markdown(f"**{escape_markdown(panel.path.name)}**  \n{panel_summary(panel)}")
            row = st.container(horizontal=True)
            open_column = download_column = rename_column = delete_column = row
            if open_column.button("Predict", key=f"panel-open-{panel.path.name}", icon=":material/biotech:",
                                  on_click=_choose_panel, args=(panel.title,), help="Open the Predict page with this panel"):
                st.switch_page("pages/predict.py")
            download_column.download_button("Download", data=lambda p=panel.path: export_archive(p), file_name=f"{panel.path.name}.molapp.zip",
                                            mime="application/zip", key=f"panel-download-{panel.path.name}", icon=":material/download:",
                                            on_click="ignore")
            with rename_column.popover("Rename", icon=":material/edit:"):
                new_name = st.text_input("New name", value=panel.path.name, key=f"panel-rename-name-{panel.path.name}")
                if st.button("Rename", key=f"panel-rename-{panel.path.name}"):
                    try:
                        rename_panel(panel.path, new_name)
                    except ValueError as exc:
                        st.error(escape_markdown(str(exc)))
                    else:
                        _forget_cached(panel.path)
                        st.rerun()
            with delete_column.popover("Delete", icon=":material/delete:"):
                st.markdown(f"Delete **{escape_markdown(panel.path.name)}** and its files?")
                if st.button("Delete for good", key=f"panel-delete-{panel.path.name}", type="primary"):
                    delete_panel(panel.path)
                    _forget_cached(panel.path)
                    st.rerun()
    with st.expander("Upload a panel's archive (from another machine)"):
        archive = st.file_uploader("Panel archive (.zip of safetensors and JSON files)", type=["zip"], key=state.TRAIN_ARCHIVE)
        if archive is not None:
            name = st.text_input("Name", value=_slug(archive.name.removesuffix(".zip").removesuffix(".molapp")), key=f"{state.TRAIN_ARCHIVE}.name")
            if st.button("Add the panel", key=f"{state.TRAIN_ARCHIVE}.add"):
                try:
                    import_archive(archive.getvalue(), name)
                except ArchiveError as exc:
                    st.error(f"Not added: {escape_markdown(str(exc))}")
                else:
                    _forget_cached(Path(name))
                    st.success(f"Added **{escape_markdown(name)}**.")
                    time.sleep(0.5)
                    st.rerun()
