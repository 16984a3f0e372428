"""molapp — the Streamlit entry point: `streamlit run app.py` (or `make run`)."""

import streamlit as st

st.set_page_config(page_title="molapp", page_icon="🧪", layout="wide")
navigation = st.navigation([
    st.Page("pages/predict.py", title="Predict & explain", icon="🔬", default=True),
    st.Page("pages/triage.py", title="Triage", icon="🧮"),
    st.Page("pages/map.py", title="Embedding map", icon="🗺️"),
    st.Page("pages/models.py", title="Models", icon="📋"),
])
navigation.run()
