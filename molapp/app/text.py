"""User text (file names, IDs, SMILES) shown inside the app's markdown."""

from __future__ import annotations

import re

# Every ASCII punctuation mark can be backslash-escaped in CommonMark; escaping them all
# also disarms Streamlit's own markup (:red[…], :material/…:, $…$ for LaTeX).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def escape_markdown(text: str) -> str:
    """`text` as literal characters in st.markdown/st.error & co.: an upload named
    `**x** [y](http://…)` must show as its name, not as bold text and a link."""
    return _PUNCTUATION.sub(r"\\\1", text)
