"""Executions that end outside their own outcome chain (stopped, timed out): Step Functions runs no state, so the
status-change event cleans up: the approval links stop working, the locks are released, one report is written."""

from __future__ import annotations

from local import approver
from local.pipeline import LocalPipeline, rollback_input
from tests.approvals.support import Rollback, assert_refused, form_fields, get, post

ON_CALL = "oncall-primary@skillancer.com"
LEAD = "eng-lead@skillancer.com"


def test_stopping_a_rollback_that_waits_for_approval_releases_the_lock_and_refuses_the_links(
    pipeline: LocalPipeline,
) -> None:
    # Given a rollback waiting for approval, holding its lock, and the on-call's page already open
    execution = pipeline.start(rollback_input(), name="stopped-1")
    pipeline.wait_for_state(execution, "Request approval")
    pipeline.approval_requests(count=3)
    waiting = Rollback(pipeline, execution)
    link = pipeline.link_for(ON_CALL)
    form = form_fields(get(link))
    assert pipeline.lock_holder() is not None
    # When the on-call stops it
    cleaned = pipeline.stop(execution)
    # Then the clean-up closed the request, released every lock key and reported it once
    assert cleaned["approval_closed"] is True and cleaned["reported"] is True
    assert "skillancer#production" in cleaned["locks_released"] and len(cleaned["locks_released"]) == 3
    assert pipeline.lock_holder() is None
    assert waiting.status() == "ENDED"
    # And the links decide nothing: the page says it ended, a POST is refused, nothing is stored as approved
    assert_refused(get(link), "This rollback already ended", status=409)
    assert_refused(post(link, {**form, "decision": "approve"}), "already ended", status=403)
    assert approver.decide(pipeline.link_for(LEAD), "approve").status == 409
    assert waiting.item()["decisions"] == {"M": {}}
    report = pipeline.recorded_report("stopped-1")
    assert report is not None and report["status"] == "ABORTED" and report["changes"] == []
    assert [e.subject for e in pipeline.notifications.fetch() if "Rollback" in e.subject] == [
        "[P0] Rollback ABORTED: skillancer (production)"
    ]
    # And delivered again (EventBridge delivers at least once), it does nothing more
    again = pipeline.execution_ended(execution)
    assert (again["reported"], again["locks_released"]) == (False, [])


def test_a_failed_rollback_whose_chain_ran_is_left_as_it_was(pipeline: LocalPipeline) -> None:
    # Given a rollback that failed through its own outcome chain (bad input): report written, nothing locked
    execution = pipeline.start(rollback_input(reason=None), name="failed-1")
    assert pipeline.wait(execution)["status"] == "FAILED"
    # When its status-change event arrives
    cleaned = pipeline.execution_ended(execution)
    # Then there is nothing to close, release or report again
    assert cleaned == {
        "execution_arn": execution, "status": "FAILED", "approval_closed": False, "locks_released": [],
        "reported": False,
    }  # fmt: skip
    assert pipeline.recorded_report("failed-1")["status"] == "FAILED"  # type: ignore[index]
