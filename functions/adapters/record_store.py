"""The rollback's record kept for the post-mortem and the auditors, in the records bucket (versioned, encrypted,
kept when the stack is deleted): ``records/<service>/<environment>/<rollback id>/`` holds ``report.json`` (the
whole report: timeline, approvals, changes, RTO/RPO), ``post-mortem.md`` (the draft in the runbook's template) and
``timeline.md``."""

from __future__ import annotations

from typing import Any

from functions.models.rollback import RollbackReport


def record_prefix(report: RollbackReport) -> str:
    return f"records/{report.service}/{report.environment}/{report.rollback_id}/"


def store_record(s3: Any, bucket: str, report: RollbackReport) -> str:
    """Writes the record (the same keys again on a retry: a new version, same content) and returns its
    ``s3://`` address."""
    prefix = record_prefix(report)
    url = f"s3://{bucket}/{prefix}"
    stored = report.model_copy(update={"record_url": url})
    timeline = "\n".join(f"- {entry.at.isoformat(timespec='seconds')} {entry.event}" for entry in report.timeline)
    for name, body, content_type in (
        ("report.json", stored.model_dump_json(indent=2), "application/json"),
        ("post-mortem.md", report.post_mortem_markdown, "text/markdown; charset=utf-8"),
        ("timeline.md", f"# Timeline of {report.rollback_id}\n\n{timeline}\n", "text/markdown; charset=utf-8"),
    ):
        s3.put_object(Bucket=bucket, Key=prefix + name, Body=body.encode(), ContentType=content_type)
    return url
