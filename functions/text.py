"""Text that enters a bounded place (the workflow's state, an audit item) is cut to size, saying how long it was."""

from __future__ import annotations


def bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    suffix = f"... [{len(text)} characters]"
    return text[: limit - len(suffix)] + suffix


SUBJECT_LIMIT = 99  # SNS refuses a subject of 100 characters or more; approval emails keep to the same bound


def subject_line(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """One line for an email subject: no line breaks or control characters, at most ``limit`` characters."""
    flat = " ".join("".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."
