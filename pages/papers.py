"""Papers: what each seed paper claims, what this project measured, and whether it held."""

import streamlit as st

from molapp.app import papers_views as views
from molapp.app.errors import error_boundary
from molapp.app.sidebar import render_sidebar

with error_boundary():
    render_sidebar()  # keeps the panel chosen on other pages
    st.title("Papers: do their claims hold?")
    views.introduction()
    views.papers()
