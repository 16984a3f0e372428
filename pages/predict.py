"""Predict & explain: one molecule in, predictions per task, and why — where GraphMem looked,
how MemGNN/GMN clustered the atoms, how GraSeq mixed graph and sequence, or which tasks
the transfer model learned from which."""

import streamlit as st

from molapp.app import views
from molapp.app.errors import error_boundary
from molapp.app.sidebar import render_sidebar

with error_boundary():
    settings = render_sidebar()
    st.title("Predict & explain")
    name, smiles = views.molecule_input()
    if not settings.tasks:
        st.info("Choose at least one task query in the sidebar.")
        st.stop()
    result = views.explanation(settings, smiles)
    if not result.ok:
        views.input_error(name, smiles, result)
        st.stop()
    views.molecule_card(name, result)
    views.results(settings, result, name)
    views.applicability_domain(settings, result)
    views.why(settings, result)
