"""Text that enters a bounded place (the workflow's state, an audit item) is cut to size, saying how long it was."""

from __future__ import annotations


def bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    suffix = f"... [{len(text)} characters]"
    return text[: limit - len(suffix)] + suffix
