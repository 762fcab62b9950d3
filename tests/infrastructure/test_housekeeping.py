"""What a platform team expects: every taggable resource tagged with service, owner and cost centre; evidence kept
when the stack is deleted; nothing account-wide deleted with it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from local.synth import Synthesized, base_context
from stacks.config import ConfigError, load_config

CONFIGURED_TAGS = base_context()["rollback"]["tags"]


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def tag_property(resource_type: str) -> str | None:
    """Where ``resource_type`` takes its tags, per the CloudFormation resource schema (None: not taggable)."""
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region="us-east-1", resource_type=resource_type).schema
    tagging = schema.get("tagging") or {}
    if not tagging.get("taggable"):
        return None
    return str(tagging.get("tagProperty", "/properties/Tags")).removeprefix("/properties/")


def tags_of(properties: dict[str, Any], name: str) -> dict[str, str]:
    tags = properties.get(name) or {}
    return {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else dict(tags)


def test_every_taggable_resource_carries_service_owner_and_cost_centre(synthesized: Synthesized) -> None:
    # Given the configured tags, and which resource types CloudFormation can tag
    assert set(CONFIGURED_TAGS) >= {"service", "owner", "cost-centre"}
    untagged, taggable = [], 0
    for logical_id, resource in synthesized.template["Resources"].items():
        name = tag_property(resource["Type"])
        if name is None:
            continue
        taggable += 1
        # Then each taggable resource carries all of them
        if not tags_of(resource.get("Properties", {}), name).items() >= CONFIGURED_TAGS.items():
            untagged.append(f"{logical_id} ({resource['Type']})")
    assert untagged == []
    assert taggable > 50  # functions, roles, log groups, tables, topics, alarms, state machines...


def test_audit_evidence_is_retained_and_locks_are_not(synthesized: Synthesized) -> None:
    template = synthesized.template
    # Every log group (state machines', functions', the approval page's access log) outlives the stack
    log_groups = resources(template, "AWS::Logs::LogGroup")
    assert log_groups
    assert {k: g.get("DeletionPolicy") for k, g in log_groups.items() if g.get("DeletionPolicy") != "Retain"} == {}
    # The audit trail, approvals and incidents too, and the key that the approvals are encrypted with
    policies = {
        table["Properties"]["KeySchema"][0]["AttributeName"]: (table["DeletionPolicy"], table["UpdateReplacePolicy"])
        for table in resources(template, "AWS::DynamoDB::Table").values()
    }
    assert policies == {
        "rollback_id": ("Retain", "Retain"),
        "approval_id": ("Retain", "Retain"),
        "incident_key": ("Retain", "Retain"),
        "lock_key": ("Delete", "Delete"),
    }
    (approvals,) = [t for t in resources(template, "AWS::DynamoDB::Table").values()
                    if t["Properties"]["KeySchema"][0]["AttributeName"] == "approval_id"]  # fmt: skip
    key = approvals["Properties"]["SSESpecification"]["KMSMasterKeyId"]["Fn::GetAtt"][0]
    assert template["Resources"][key]["DeletionPolicy"] == "Retain"


def test_api_gateway_account_logging_survives_the_stack(synthesized: Synthesized) -> None:
    # The account-wide API Gateway settings (and the role they name) are not this stack's to delete
    (account,) = resources(synthesized.template, "AWS::ApiGateway::Account").values()
    assert account["DeletionPolicy"] == "Retain"
    role = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    assert synthesized.template["Resources"][role]["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"service": "rollback-pipeline", "owner": "platform-team"}, "missing cost-centre"),
        ({"service": "x", "owner": "y", "cost-centre": " "}, "missing cost-centre"),
        ({"service": "x", "owner": "y", "cost-centre": "z", "aws:created-by": "me"}, "reserved"),
        ({"service": "x", "owner": "y", "cost-centre": "z", "team": "a|b"}, "only letters"),
    ],
)
def test_missing_or_invalid_tags_fail_synth_naming_the_field(tags: dict[str, str], expected: str) -> None:
    context = copy.deepcopy(base_context()["rollback"])
    context["tags"] = tags
    with pytest.raises(ConfigError, match=f"rollback.tags: .*{expected}"):
        load_config(context)
