"""Train: your own labelled molecules (or a shipped dataset) in, a panel out — trained in the
background, with live progress, then on every page like a shipped panel."""

import streamlit as st

from molapp.app import train_views as views
from molapp.app.errors import error_boundary
from molapp.app.sidebar import render_sidebar

with error_boundary():
    render_sidebar()
    st.title("Train a panel on your data")
    st.caption("Upload a CSV or SDF of measured molecules, pick the targets, and a memory network is trained on it in the "
               "background, measured on held-out molecules, and added to your panels.")
    request = views.request_form()
    views.train_button(request)
    st.subheader("Training jobs")
    views.jobs_view()
    st.subheader("Your panels")
    views.user_panels()
