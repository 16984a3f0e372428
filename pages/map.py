"""Embedding map: the checkpoint's dataset as the model sees it, with your molecules placed
among them; optionally beside it a second model's map of the same molecules, or GraSeq's
graph-only, sequence-only and fused maps."""

import streamlit as st

from molapp.app import map_views as views
from molapp.app.errors import error_boundary
from molapp.app.sidebar import render_sidebar

with error_boundary():
    settings = render_sidebar()
    st.title("Embedding map")
    reference = views.panel_map(settings)
    if reference is None:
        st.stop()
    st.caption(views.describe(settings.panel, reference))
    what, task = views.colouring(settings.panel, reference)
    mine = views.user_molecules()
    if not mine:
        st.caption("Predict a molecule on the Predict page, or score a list on the Triage page, to see it placed here.")
    beside = views.layout(settings.panel, reference)
    selected = views.maps(settings, reference, what, task, mine, beside)
    views.selection(settings.panel, reference, selected, task)
