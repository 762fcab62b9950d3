"""The rollback's record kept for the post-mortem and the auditors, in the records bucket (versioned, encrypted,
kept when the stack is deleted): ``records/<service>/<environment>/<rollback id>/`` holds ``report.json`` (the
whole report: timeline, approvals, changes, RTO/RPO), ``post-mortem.md`` (the draft in the runbook's template),
``timeline.md`` and ``logs.json`` (the incident's logs, when the service's log groups are configured)."""

from __future__ import annotations

from typing import Any

from functions.models.rollback import RollbackReport

LOGS_FILE = "logs.json"


def prefix_of(service: str, environment: str, rollback_id: str) -> str:
    return f"records/{service}/{environment}/{rollback_id}/"


def record_prefix(report: RollbackReport) -> str:
    return prefix_of(report.service, report.environment, report.rollback_id)


def record_address(bucket: str, report: RollbackReport) -> str:
    """Where :func:`store_record` keeps ``report``'s record: ``s3://bucket/prefix/``."""
    return f"s3://{bucket}/{record_prefix(report)}"


def store_record(s3: Any, bucket: str, report: RollbackReport) -> str:
    """Writes the record (the same keys again on a retry: a new version, same content) and returns its
    ``s3://`` address."""
    prefix = record_prefix(report)
    url = record_address(bucket, report)
    stored = report.model_copy(update={"record_url": url})
    timeline = "\n".join(f"- {entry.at.isoformat(timespec='seconds')} {entry.event}" for entry in report.timeline)
    for name, body, content_type in (
        ("report.json", stored.model_dump_json(indent=2), "application/json"),
        ("post-mortem.md", report.post_mortem_markdown, "text/markdown; charset=utf-8"),
        ("timeline.md", f"# Timeline of {report.rollback_id}\n\n{timeline}\n", "text/markdown; charset=utf-8"),
    ):
        s3.put_object(Bucket=bucket, Key=prefix + name, Body=body.encode(), ContentType=content_type)
    return url


def store_logs(s3: Any, bucket: str, prefix: str, body: bytes) -> str:
    """Writes the preserved logs beside the record and returns their ``s3://`` address."""
    s3.put_object(Bucket=bucket, Key=prefix + LOGS_FILE, Body=body, ContentType="application/json")
    return f"s3://{bucket}/{prefix}{LOGS_FILE}"
