"""The revert of an ``edge`` rollback: the record set it replaced is UPSERTed back, and the distribution config it
stored before its change (that S3 version) is put back; both with the same guards as any edge change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from functions.models.rollback import ChangeRecord
from functions.rollbacks.contract import NothingToRevert
from functions.rollbacks.edge.kinds import CLOUDFRONT_KINDS, DNS_KINDS


def revert_target(changes: Sequence[ChangeRecord]) -> dict[str, Any]:
    restore: dict[str, Any] = {}
    for change in changes:
        if change.status != "applied":
            continue
        if change.kind in DNS_KINDS:
            restore["record_set"] = change.parameters["previous"]
        elif change.kind in CLOUDFRONT_KINDS:
            key = str(change.parameters["saved_state"]).removeprefix("s3://").split("/", 1)[1]
            restore["distribution_config"] = {"key": key, "version_id": change.parameters["saved_state_version"]}
    if not restore:
        raise NothingToRevert("the rollback changed neither the record nor the distribution")
    return {"restore": restore}
