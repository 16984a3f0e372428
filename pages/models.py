"""Models: how every model compares on the same data, and the chosen checkpoint in detail."""

import streamlit as st

from molapp.app import models_views as views
from molapp.app.errors import error_boundary
from molapp.app.sidebar import render_sidebar

with error_boundary():
    settings = render_sidebar()
    st.title("Models")
    views.leaderboard(settings.panel)
    views.overview()
    views.card(settings.panel)
    views.test_split(settings)
