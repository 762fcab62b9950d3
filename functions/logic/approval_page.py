"""The approval page: small, mobile-friendly HTML that shows exactly what will change. GET never decides."""

from __future__ import annotations

from html import escape
from typing import Any

from functions.logic import links
from functions.logic.approvals import PageContext

STYLE = """
body{font-family:-apple-system,system-ui,sans-serif;margin:0;padding:16px;max-width:640px;color:#1d2330}
h1{font-size:1.3rem}.sev{display:inline-block;padding:2px 8px;border-radius:4px;background:#b42318;color:#fff}
table{border-collapse:collapse;width:100%;margin:12px 0}td,th{border:1px solid #d0d5dd;padding:6px;text-align:left;
font-size:.9rem;vertical-align:top}th{background:#f2f4f7}textarea{width:100%;min-height:4em;box-sizing:border-box}
.buttons{display:flex;gap:12px;margin-top:12px}button{flex:1;padding:14px;font-size:1rem;border:0;border-radius:6px}
.approve{background:#067647;color:#fff}.reject{background:#b42318;color:#fff}.note{color:#475467;font-size:.85rem}
.warning{background:#fffaeb;border:1px solid #fec84b;border-radius:6px;padding:8px 12px;margin:12px 0}
"""

SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}


def _layout(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def message_page(title: str, message: str) -> str:
    return _layout(title, f"<h1>{escape(title)}</h1><p>{escape(message)}</p>")


def review_page(page: PageContext, key: bytes) -> str:
    summary: dict[str, Any] = page.record.summary
    rows = "".join(
        f"<tr><td>{escape(c['target'])}</td><td>{escape(c['before'])}</td><td>{escape(c['after'])}"
        + (" (already there)" if c.get("skip") else "")
        + (f'<div class="note">{escape(c["detail"])}</div>' if c.get("detail") else "")
        + "</td></tr>"
        for c in summary["changes"]
    )
    facts = [
        ("Scenario", summary["scenario"]),
        ("Requested by", summary["requested_by"]),
        ("Reason", summary["reason"]),
        ("Alarm", summary.get("alarm") or "none (manual start)"),
        ("Roles required", ", ".join(page.record.required_roles)),
        ("You approve as", f"{page.approver.name} ({', '.join(page.approver.roles)})"),
    ]
    if summary.get("feature_flag_options"):
        facts.append(("Feature flag alternative", ", ".join(summary["feature_flag_options"])))
    fact_rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in facts)
    warnings = "".join(f'<p class="warning" role="alert">{escape(w)}</p>' for w in summary.get("warnings", []))
    claims = page.claims
    hidden = {
        "a": claims.approver_id,
        "e": str(claims.expires),
        "n": claims.nonce,
        "s": links.sign(key, claims),
        "csrf": links.csrf_token(key, claims),
    }
    inputs = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in hidden.items())
    body = (
        f'<h1><span class="sev">{escape(summary["severity"])}</span> Roll back {escape(summary["service"])} '
        f"in {escape(summary['environment'])}?</h1>"
        f"{warnings}<table>{fact_rows}</table>"
        f"<table><tr><th>Target</th><th>Now</th><th>After rollback</th></tr>{rows}</table>"
        f'<form method="post" action="{escape(claims.approval_id)}">{inputs}'
        '<label for="comment">Comment (optional)</label><textarea id="comment" name="comment"></textarea>'
        '<div class="buttons"><button class="approve" name="decision" value="approve">Approve</button>'
        '<button class="reject" name="decision" value="reject">Reject</button></div></form>'
        '<p class="note">Opening this page changes nothing. Only the buttons decide.</p>'
    )
    return _layout("Approve rollback", body)
