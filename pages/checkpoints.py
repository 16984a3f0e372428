"""Checkpoints: what each shipped model is, how it was trained, how well it does per task."""

import streamlit as st

from molapp.app import checkpoint_views
from molapp.app.sidebar import render_sidebar

settings = render_sidebar()
st.title("Checkpoints")
checkpoint_views.overview()
checkpoint_views.card(settings.panel)
