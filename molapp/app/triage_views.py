"""The blocks the Triage page is made of: input, scoring with progress, filters, the ranked
table, the top molecules as a grid, and exports."""

from __future__ import annotations

import hashlib
import io
import itertools

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from molapp.app import resources, state
from molapp.app.sidebar import Settings
from molapp.chem.druglikeness import PROPERTIES
from molapp.app.text import escape_markdown
from molapp.chem.io import (ID_COLUMN_NAMES, SMILES_COLUMN_NAMES, InputRow, csv_columns, guess_column, read_csv, read_sdf,
                            rows_from_smiles_text, spreadsheet_safe, write_sdf)
from molapp.explain.depict import grid_svg, thumbnail_url
from molapp.inference.predictor import spread_column
from molapp.inference.triage import DOMAIN_COLUMN, TRIAGE_LIMIT, score

SOURCES = ["Upload CSV", "Upload SDF", "Paste SMILES"]
SHOWN_ROWS = 1000  # rows drawn with structures; filters and exports cover all rows
NO_ID = "(row number)"


def _digest(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
    return digest.hexdigest()[:16]


def too_many(settings: Settings) -> None:
    st.error(f"This input has more than {TRIAGE_LIMIT:,} molecules, the most the app scores. Use the predict CLI: "
             f"`python -m molapp.predict --checkpoint {settings.panel.path.relative_to(settings.panel.path.parents[1])} "
             "--input FILE --output predictions.csv` (streams millions of rows).")


def _upload_rows(upload: UploadedFile, kind: str, smiles_column: str = "", id_column: str | None = None) -> tuple[list[InputRow], str]:
    """The upload's rows, read as a stream that stops one row past TRIAGE_LIMIT (a huge file
    is never parsed whole), once per upload and column choice: reruns (every filter click)
    take them from the session. A file that cannot be read raises a ValueError saying why."""
    key = (upload.file_id, kind, smiles_column, id_column)
    cached = st.session_state.get(state.TRIAGE_UPLOAD)
    if cached is None or cached["key"] != key:
        source = io.BytesIO(upload.getvalue())
        rows = read_csv(source, smiles_column, id_column) if kind == "csv" else read_sdf(source)
        cached = {"key": key, "rows": list(itertools.islice(rows, TRIAGE_LIMIT + 1)),
                  "digest": _digest(kind, upload.getvalue(), smiles_column, id_column or "")}
        st.session_state[state.TRIAGE_UPLOAD] = cached
    return cached["rows"], cached["digest"]


def _csv_choice(upload: UploadedFile) -> tuple[str, str | None]:
    """The SMILES and ID columns, guessed from the header as the predict CLI guesses them."""
    columns = csv_columns(io.BytesIO(upload.getvalue()))
    left, right = st.columns(2)
    smiles_guess = guess_column(columns, SMILES_COLUMN_NAMES)
    smiles_column = left.selectbox("SMILES column", columns, index=columns.index(smiles_guess) if smiles_guess else 0,
                                   key=state.TRIAGE_SMILES_COLUMN)
    options = [NO_ID, *columns]
    id_column = right.selectbox("ID column", options, index=options.index(guess_column(columns, ID_COLUMN_NAMES) or NO_ID),
                                key=state.TRIAGE_ID_COLUMN)
    return smiles_column, None if id_column == NO_ID else id_column


def molecules_input(settings: Settings) -> tuple[list[InputRow], str] | None:
    """The molecules to triage and a digest of the input (for caching), or None (nothing
    given, unreadable, or more than TRIAGE_LIMIT: the page says which)."""
    source = st.radio("Input", SOURCES, horizontal=True, key=state.TRIAGE_SOURCE, label_visibility="collapsed")
    if source == "Paste SMILES":
        text = st.text_area("SMILES, one per line (an ID may follow after a space)", key=state.TRIAGE_PASTE, height=160,
                            placeholder="CC(=O)Oc1ccccc1C(=O)O aspirin\nCn1cnc2c1c(=O)n(C)c(=O)n2C caffeine")
        chosen = (rows_from_smiles_text(text), _digest("paste", text))
    else:
        kind = "csv" if source == "Upload CSV" else "sdf"
        upload = st.file_uploader(f"{kind.upper()} file", type=["csv"] if kind == "csv" else ["sdf", "sd"])
        if upload is None:
            return None
        try:
            chosen = _upload_rows(upload, kind, *_csv_choice(upload)) if kind == "csv" else _upload_rows(upload, kind)
        except ValueError as exc:
            st.error(f"Cannot read **{escape_markdown(upload.name)}** as {kind.upper()}: {escape_markdown(str(exc))}")
            return None
    if len(chosen[0]) > TRIAGE_LIMIT:
        too_many(settings)
        return None
    return chosen if chosen[0] else None


def scored(settings: Settings, rows: list[InputRow], digest: str) -> pd.DataFrame | None:
    """The scored table for these rows and this checkpoint: from the session when already
    scored (a filter change never re-scores), else after the user presses Score (waiting
    for one of the server's scoring slots when every slot is busy)."""
    key = (str(settings.panel.path), digest)
    cached = st.session_state.get(state.TRIAGE_RESULT)
    if cached and cached["key"] == key:
        return cached["table"]
    if not st.button(f"Score {len(rows):,} molecules", type="primary"):
        st.caption(f"{len(rows):,} molecules read. Scoring runs every task of the panel, the applicability domain and drug-likeness.")
        return None
    with resources.scoring_slot():
        bar = st.progress(0.0, text="Starting…")

        def progress(done: int, total: int, seconds: float) -> None:
            left = seconds / done * (total - done) if done else 0
            bar.progress(done / total, text=f"Scored {done:,} of {total:,} molecules · about {left:.0f} s left")

        table = score(settings.predictor, resources.domain_index(str(settings.panel.path)), rows, progress=progress)
    st.session_state[state.TRIAGE_RESULT] = {"key": key, "table": table}
    st.rerun()  # draw the page from the stored scores, without the button and the progress bar


def filters(settings: Settings, table: pd.DataFrame) -> pd.DataFrame:
    """Rows passing the filters, ranked."""
    classification = settings.panel.card.task_type == "classification"
    keep = np.ones(len(table), dtype=bool)
    with st.expander("Filters and ranking", expanded=True):
        show_errors = st.checkbox("Show rows that could not be used", value=True)
        columns = st.columns(3)
        for k, task in enumerate(settings.tasks):
            values = table[task].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            low, high = (0.0, 1.0) if classification else (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            if high <= low:
                continue
            chosen = columns[k % 3].slider(settings.panel.task_label(task), low, high, (low, high), key=f"molapp.triage.filter.{task}")
            if chosen != (low, high):
                keep &= (values >= chosen[0]) & (values <= chosen[1])
        left, middle, right = st.columns(3)
        domain = left.slider("Min. domain similarity", 0.0, 1.0, 0.0, 0.05, key="molapp.triage.filter.domain")
        if domain > 0:
            keep &= table[DOMAIN_COLUMN].to_numpy(dtype=float) >= domain
        if middle.checkbox("No PAINS alerts", key="molapp.triage.filter.pains"):
            keep &= table["PAINS"].fillna("").eq("").to_numpy() & table["status"].eq("ok").to_numpy()
        if middle.checkbox("No Brenk alerts", key="molapp.triage.filter.brenk"):
            keep &= table["Brenk"].fillna("").eq("").to_numpy() & table["status"].eq("ok").to_numpy()
        if right.checkbox("Passes Lipinski", key="molapp.triage.filter.lipinski"):
            keep &= table["Lipinski"].eq(True).to_numpy()
        if right.checkbox("Passes Veber", key="molapp.triage.filter.veber"):
            keep &= table["Veber"].eq(True).to_numpy()
        if not show_errors:
            keep &= table["status"].eq("ok").to_numpy()
        rank_options = [*settings.tasks, *_spread_columns(settings, table), DOMAIN_COLUMN, "QED", "MW", "cLogP", "TPSA", "row"]
        first, second = st.columns(2)
        rank_by = first.selectbox("Rank by", rank_options, format_func=lambda c: settings.panel.task_label(c) if c in settings.tasks else c,
                                  key="molapp.triage.rank")
        descending = second.toggle("Highest first", value=rank_by != "row", key="molapp.triage.descending")
    view = table[keep].sort_values(rank_by, ascending=not descending, na_position="last", kind="stable")
    st.session_state[state.TRIAGE_VIEW] = view
    return view


def summary(table: pd.DataFrame, view: pd.DataFrame) -> None:
    errors = int(table["status"].eq("error").sum())
    changed = int((table["status"].eq("ok") & table["changes"].ne("")).sum())
    st.markdown(f"**{len(view):,} of {len(table):,} rows** pass the filters · {errors:,} input rows could not be used "
                "(kept, flagged with the reason)"
                + (f" · {changed:,} scored after standardization changed them (salts stripped or charges neutralized: "
                   "see the `changes` column)" if changed else ""))


def _spread_columns(settings: Settings, table: pd.DataFrame) -> list[str]:
    """An ensemble's members' standard deviation per chosen task (none for a single model)."""
    return [spread_column(t) for t in settings.tasks if spread_column(t) in table.columns]


def ranked_table(settings: Settings, view: pd.DataFrame) -> None:
    shown = view.head(SHOWN_ROWS)
    spread = _spread_columns(settings, view)
    frame = shown[["row", "id"]].assign(structure=[thumbnail_url(s) for s in shown["canonical_smiles"].fillna("")])
    frame = pd.concat([frame, shown[["status", "error", "changes", *settings.tasks, *spread, DOMAIN_COLUMN, *PROPERTIES, "smiles"]]], axis=1)
    classification = settings.panel.card.task_type == "classification"
    task_config = {
        task: st.column_config.ProgressColumn(task, format="%.3f", min_value=0, max_value=1, help=settings.panel.task_label(task))
        if classification else st.column_config.NumberColumn(f"{task} ({settings.panel.units(task)})", format="%.2f", help=settings.panel.task_label(task))
        for task in settings.tasks
    } | {spread_column(task): st.column_config.NumberColumn("members' SD" + (f" · {task}" if len(settings.tasks) > 1 else ""), format="%.3f",
                                                          help=f"How far the ensemble's members disagree on {task} (standard deviation)")
         for task in settings.tasks if spread_column(task) in spread}
    st.dataframe(frame, hide_index=True, row_height=80, height=min(620, 40 + 81 * len(frame)), column_config={
        "structure": st.column_config.ImageColumn("structure", width="medium"),
        DOMAIN_COLUMN: st.column_config.NumberColumn(format="%.2f", help="Highest Tanimoto similarity (Morgan r2) to a training molecule"),
        **task_config,
    })
    if len(view) > SHOWN_ROWS:
        st.caption(f"Showing the top {SHOWN_ROWS:,} rows of {len(view):,}; the exports hold them all.")


def top_grid(settings: Settings, view: pd.DataFrame, count: int = 12) -> None:
    top = view[view["status"] == "ok"].head(count)
    if top.empty:
        return
    st.subheader(f"Top {len(top)} molecules")
    key_tasks = settings.tasks[:2]
    def short(task: str) -> str:  # grid legends are small: long task names are left to the table
        return f"{task} " if len(task) <= 14 else ""

    legends = [f"{row['id']} · " + " · ".join(f"{short(t)}{row[t]:.2f}" for t in key_tasks) for _, row in top.iterrows()]
    st.image(grid_svg(top["canonical_smiles"].tolist(), legends), width="stretch")


def csv_text(frame: pd.DataFrame) -> str:
    """The CSV export: text cells a spreadsheet would run as formulas neutralized."""
    return frame.map(spreadsheet_safe).to_csv(index=False)


def _export_key(frame: pd.DataFrame) -> str:
    """Which rows, in which order, of which scored table: an export is made once per key."""
    result_key = st.session_state[state.TRIAGE_RESULT]["key"]
    return _digest(repr(result_key), frame.index.to_numpy().tobytes(), ",".join(map(str, frame.columns)))


def _export_files(frame: pd.DataFrame) -> dict:
    """This session's exports of these rows: {"key", "csv": bytes, "sdf": bytes | None}.
    The bytes are made once per row selection and handed to the download buttons as data, not
    as callables: Streamlit stores a deferred (callable) download under a fresh id each run and
    drops it when any session's run ends while this one is between runs — under load, clicks
    then fail ("Deferred file not found"). Bytes get an id from their content, the same on
    every rerun, so a click on the button a moment old still finds its file."""
    key = _export_key(frame)
    files = st.session_state.get(state.TRIAGE_EXPORTS)
    if files is None or files["key"] != key:
        files = {"key": key, "csv": csv_text(frame).encode("utf-8"), "sdf": None}
        st.session_state[state.TRIAGE_EXPORTS] = files
    return files


def exports(table: pd.DataFrame, view: pd.DataFrame) -> None:
    st.subheader("Export")
    which = st.radio("Rows", ["Filtered rows", "All rows"], horizontal=True, key="molapp.triage.export_rows")
    frame = view if which == "Filtered rows" else table
    files = _export_files(frame)
    left, right = st.columns(2)
    left.download_button(f"CSV ({len(frame):,} rows)", files["csv"], file_name="molapp-triage.csv", mime="text/csv",
                         on_click="ignore")
    sdf_slot = right.empty()
    # drawing a molblock per row takes a while: the SDF is made when asked for
    if files["sdf"] is None and sdf_slot.button(f"Prepare SDF ({len(frame):,} records, predictions as SD properties)"):
        with st.spinner(f"Writing {len(frame):,} SDF records…"):
            files["sdf"] = write_sdf(frame).encode("utf-8")
    if files["sdf"] is not None:
        sdf_slot.download_button(f"SDF ({len(frame):,} records, predictions as SD properties)", files["sdf"],
                              file_name="molapp-triage.sdf", mime="chemical/x-mdl-sdfile", on_click="ignore")
