"""What approvers are told while the quorum fills, and two approvals landing at the same moment."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from unittest import mock

from functions.adapters.approvals_store import ApprovalStore
from functions.adapters.audit import AuditLog
from functions.logic import approvals
from functions.settings import ApprovalSettings, load_settings
from local import approver
from tests.approvals.support import LEAD, ON_CALL, Rollback, approval_id_of, function_environment, query


def test_the_lead_approving_first_is_told_only_the_on_call_is_missing(waiting: Rollback) -> None:
    # When the lead approves before the on-call
    lead = approver.decide(waiting.link(LEAD), "approve")
    # Then their approval counts and only the on-call is missing
    assert lead.status == 200
    assert "Still waiting for: on-call." in lead.text, lead.text
    # And the on-call's approval completes it
    assert "Approved." in approver.decide(waiting.link(ON_CALL), "approve").text
    assert waiting.pipeline.wait(waiting.execution)["status"] == "SUCCEEDED"


def test_two_approvals_landing_at_the_same_moment_still_close_the_request(waiting: Rollback) -> None:
    """The emulator runs Lambda invocations one at a time, so two concurrent page requests cannot interleave
    over HTTP here; this test drives the page's own steps in the order two concurrent invocations can take on
    AWS: both open their link (read the record), then both record their decision."""
    pipeline = waiting.pipeline
    with mock.patch.dict(os.environ, function_environment(pipeline)):
        settings = load_settings(ApprovalSettings)
    store = ApprovalStore(pipeline.dynamodb, pipeline.deployment.table_name("StateApprovals"))
    audit = AuditLog(pipeline.dynamodb, pipeline.deployment.table_name("StateAudit"))
    key = waiting.signing_key()

    def open_page(email: str) -> approvals.PageContext:
        link = waiting.link(email)
        return approvals.open_link(
            approval_id=approval_id_of(link), params=query(link), settings=settings, key=key, store=store,
            now=datetime.now(UTC),
        )  # fmt: skip

    # Given the on-call and the lead both opened the request while it had no decision
    pages = [open_page(ON_CALL), open_page(LEAD)]
    # When both record their approval
    for page in pages:
        approvals.decide(
            page=page, decision="approve", comment=None, source_ip="127.0.0.1", user_agent="test",
            settings=settings, store=store, callbacks=pipeline.sfn, audit=audit, now=datetime.now(UTC),
        )  # fmt: skip
    # Then both decisions are stored
    assert waiting.decisions() == ["eng-lead", "oncall-primary"]
    # And the request is closed as approved and the workflow called back once
    assert waiting.status() == "APPROVED"
    assert pipeline.wait(waiting.execution, timeout=30)["status"] == "SUCCEEDED"
    assert waiting.approval_callbacks() == ["TaskSucceeded"]
