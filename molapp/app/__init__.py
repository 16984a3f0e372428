"""Streamlit views of molapp: pages in ../../pages stay thin and call these."""
