"""Embedding map: the checkpoint's dataset as the model sees it, with your molecules placed
among them; optionally a second model's map of the same molecules beside it."""

import streamlit as st

from molapp.app import map_views as views
from molapp.app import resources
from molapp.app.sidebar import render_sidebar

settings = render_sidebar()
st.title("Embedding map")
reference = views.panel_map(settings)
if reference is None:
    st.stop()
st.caption(views.describe(settings.panel, reference))
what, task = views.colouring(settings.panel, reference)
mine = views.user_molecules()
placed = views.place(settings.panel, mine) if mine else None
if not mine:
    st.caption("Predict a molecule on the Predict page, or score a list on the Triage page, to see it placed here.")
others = views.comparison_choices(settings.panel, reference)
compare = views.comparison(others)
if compare is None:
    selected = views.chart(settings.panel, reference, what, task, settings.threshold, placed, key="map-main")
else:
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{settings.panel.title}**")
        selected = views.chart(settings.panel, reference, what, task, settings.threshold, placed, key="map-main", height=520)
    with right:
        st.markdown(f"**{compare.title}**")
        other = resources.embedding_map(str(compare.path))
        other_placed = views.place(compare, mine) if mine else None
        selected = sorted(set(selected) | set(views.chart(compare, other, what, task, settings.threshold, other_placed, key="map-compare", height=520)))
views.selection(settings.panel, reference, selected, task)
