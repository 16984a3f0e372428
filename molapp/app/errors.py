"""One error boundary per page: an unexpected exception becomes a short message with an
error id on the page, and its traceback goes to the server log under the same id. A
traceback tells a user nothing they can act on and may show paths and internals."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

logger = logging.getLogger("molapp.app")


@contextmanager
def error_boundary() -> Iterator[None]:
    """Wraps a page's body. Streamlit's own control flow (st.stop, st.rerun, switching
    pages) raises BaseExceptions, which pass through untouched."""
    try:
        yield
    except Exception:  # noqa: BLE001 - the boundary: anything the page did not expect
        error_id = secrets.token_hex(4)
        logger.exception("page failed, error id %s", error_id)
        st.error(f"Something went wrong (error id {error_id}); the details are in the server log.")
