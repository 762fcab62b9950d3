"""The recovery clock: RTO is measured from detection to verified recovery, against the runbook's budget."""

from __future__ import annotations

from datetime import datetime

RTO_TARGET_SECONDS = 15 * 60
RPO_TARGET_SECONDS = 5 * 60


def elapsed_seconds(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds(), 3)


def rto_met(rto_seconds: float | None, target_seconds: int) -> bool | None:
    return None if rto_seconds is None else rto_seconds <= target_seconds


def budget_share_used(start: datetime, now: datetime, target_seconds: int) -> float:
    return elapsed_seconds(start, now) / target_seconds
