"""An email to one person, in two parts that say the same: the plain text (what :mod:`functions.logic.approvals`
writes) and an HTML part that is that text, escaped line by line, with the approval link as its only anchor.
Nothing the requester typed (reason, scenario, changes) can become markup, a link or a line of its own."""

from __future__ import annotations

import re
from html import escape

from functions.adapters.mailer import EmailMessage
from functions.text import subject_line

STYLE = "font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.45"


def compose(subject: str, text: str, link: str | None = None) -> EmailMessage:
    """The message for ``text``: its subject on one line under 100 characters; ``link`` (a line of ``text`` on
    its own) becomes the HTML part's one anchor."""
    subject = subject_line(subject)
    return EmailMessage(subject=subject, text=text, html=html_part(subject, text, link))


def html_part(title: str, text: str, link: str | None) -> str:
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text.strip("\n")) if p.strip()]
    body = "\n".join(f"<p>{'<br>'.join(_html_line(line, link) for line in p.splitlines())}</p>" for p in paragraphs)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        f'<body style="{STYLE}">\n{body}\n</body></html>'
    )


def _html_line(line: str, link: str | None) -> str:
    if link is not None and line.strip() == link:
        return f'<a href="{escape(link, quote=True)}">{escape(link)}</a>'
    indent = len(line) - len(line.lstrip(" "))
    return "&nbsp;" * indent + escape(line.lstrip(" "))
