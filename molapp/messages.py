"""Error messages for people: what to show of an exception raised by a library."""

from __future__ import annotations


def first_line(exc: Exception) -> str:
    """The exception's message, first line only (RDKit's and torch's run on over many lines
    of detail), or its type's name when it has no message."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
