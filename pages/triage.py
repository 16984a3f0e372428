"""Triage: many molecules in, every task scored, filtered, ranked and exported."""

import streamlit as st

from molapp.app import triage_views as views
from molapp.app.errors import error_boundary
from molapp.app.sidebar import render_sidebar

with error_boundary():
    settings = render_sidebar()
    st.title("Triage")
    st.caption("Upload a CSV or SDF, or paste SMILES: every row comes back scored or flagged with its reason.")
    chosen = views.molecules_input(settings)
    if chosen is None:
        st.stop()
    rows, digest = chosen
    table = views.scored(settings, rows, digest)
    if table is None:
        st.stop()
    view = views.filters(settings, table)
    views.summary(table, view)
    views.ranked_table(settings, view)
    views.top_grid(settings, view)
    views.exports(table, view)
