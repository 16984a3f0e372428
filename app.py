"""molapp — the Streamlit entry point: `streamlit run app.py` (or `make run`)."""

import streamlit as st

st.set_page_config(page_title="molapp", page_icon=":material/science:", layout="wide")
# Material icons ship with Streamlit, so they draw without an emoji font (offline, headless).
navigation = st.navigation([
    st.Page("pages/predict.py", title="Predict & explain", icon=":material/biotech:", default=True),
    st.Page("pages/triage.py", title="Triage", icon=":material/filter_list:"),
    st.Page("pages/map.py", title="Embedding map", icon=":material/scatter_plot:"),
    st.Page("pages/models.py", title="Models", icon=":material/leaderboard:"),
    st.Page("pages/papers.py", title="Papers", icon=":material/menu_book:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
])
navigation.run()
