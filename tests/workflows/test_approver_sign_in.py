"""With an identity provider configured, a decision also needs the approver's own ID token (Cognito, moto)."""

from __future__ import annotations

from local import approver
from local.pipeline import LocalPipeline, rollback_input
from local.synth import Synthesized

ON_CALL, LEAD = "oncall-primary@skillancer.com", "eng-lead@skillancer.com"


def test_decisions_need_the_link_owners_id_token(synthesized: Synthesized) -> None:
    with LocalPipeline(synthesized, serve_aws=True, approver_sign_in=True) as pipeline:
        execution = pipeline.start(rollback_input(), name="sign-in-1")
        pipeline.wait_for_state(execution, "Request approval")
        link = pipeline.link_for(ON_CALL)
        # Given the on-call's valid link, When it is used without signing in, Then nothing is decided
        unsigned = approver.decide(link, "approve")
        assert unsigned.status == 401 and "sign in" in unsigned.text
        # When the lead's (valid) token is presented on the on-call's link, Then it is refused too
        wrong = approver.decide(link, "approve", id_token=pipeline.id_token("eng-lead"))
        assert wrong.status == 401 and "somebody else" in wrong.text
        # When each approver signs in and uses their own link, Then the rollback is approved and runs
        first = approver.decide(link, "approve", id_token=pipeline.id_token("oncall-primary"))
        assert first.status == 200 and "Still waiting for: lead" in first.text
        second = approver.decide(pipeline.link_for(LEAD), "approve", id_token=pipeline.id_token("eng-lead"))
        assert second.status == 200 and "Approved" in second.text
        assert pipeline.wait(execution)["status"] == "SUCCEEDED"
