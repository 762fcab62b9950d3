"""The synthesized stack: wiring, security posture, and cdk-nag."""

from __future__ import annotations

import json
import re
from typing import Any

from aws_cdk.assertions import Annotations, Match

from functions.logic.decision_matrix import load_matrix
from functions.rollbacks.registry import ROLLBACK_TYPES
from local.synth import Synthesized, base_context
from stacks.alarm_intake import intake_alarm_detail
from stacks.config import load_config
from stacks.constructs.workflow import placeholders
from stacks.definitions import assemble_file


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_cdk_nag_aws_solutions_has_no_unsuppressed_findings(synthesized: Synthesized) -> None:
    # Given the stack synthesized with AwsSolutionsChecks applied by app.py
    annotations = Annotations.from_stack(synthesized.stack)
    # Then no error or warning remains (every accepted finding is suppressed with a reason)
    errors = annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [e.entry.data for e in errors] == []
    assert [w.entry.data for w in warnings] == []


def test_every_suppression_carries_a_reason(synthesized: Synthesized) -> None:
    suppressions = synthesized.template["Metadata"]["cdk_nag"]["rules_to_suppress"]
    assert suppressions
    for suppression in suppressions:
        assert len(suppression["reason"]) >= 20, suppression["id"]


def state_machines(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each deployed state machine's properties, by its rollback type."""
    return {
        machine["Properties"]["DefinitionSubstitutions"]["RollbackType"]: machine["Properties"]
        for machine in resources(template, "AWS::StepFunctions::StateMachine").values()
    }


def test_each_configured_type_is_a_state_machine_of_the_assembled_definition(synthesized: Synthesized) -> None:
    # Given the configured types, and the time their own states may take (a restore is slower than a rollout)
    config = load_config(base_context()["rollback"])
    machines = state_machines(synthesized.template)
    deployed_types = {"kubernetes_app", "database_pitr", "database_snapshot", "database_schema", "feature_flag"}
    deployed_types |= {"infrastructure"}
    deployed_types |= {"edge"}
    assert set(machines) == set(config.types) == deployed_types
    for name, props in machines.items():
        # Then each definition is the spine with the type's states, inline, placeholders substituted
        assert props["StateMachineName"] == f"RollbackPipeline-{ROLLBACK_TYPES[name].state_machine_suffix}"
        asl = props["DefinitionString"]
        deployed = json.loads(asl)
        timeout = config.execution_timeout_seconds + config.type_config(name).own_states_seconds()
        assert deployed == {**assemble_file(ROLLBACK_TYPES[name].asl_part), "TimeoutSeconds": timeout}
        assert set(props["DefinitionSubstitutions"]) == placeholders(asl)
        assert props["StateMachineType"] == "STANDARD"
        assert props["TracingConfiguration"] == {"Enabled": True}
        assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert json.loads(machines["kubernetes_app"]["DefinitionString"])["TimeoutSeconds"] == 3000
    restore, restart = 2700, 600
    assert json.loads(machines["database_pitr"]["DefinitionString"])["TimeoutSeconds"] == 3000 + restore + restart
    assert json.loads(machines["database_schema"]["DefinitionString"])["TimeoutSeconds"] == 3000 + 1800 + 1800
    plan, apply, deployment = 600, 1800, 900
    infrastructure = json.loads(machines["infrastructure"]["DefinitionString"])
    assert infrastructure["TimeoutSeconds"] == 3000 + plan + apply + deployment


def test_state_machine_may_invoke_exactly_the_functions_its_definition_uses(synthesized: Synthesized) -> None:
    template = synthesized.template
    for name, machine in state_machines(template).items():
        substitutions = machine["DefinitionSubstitutions"].values()
        used = {sub["Fn::GetAtt"][0] for sub in substitutions if isinstance(sub, dict)}
        role = machine["RoleArn"]["Fn::GetAtt"][0]
        invoked: set[str] = set()
        for policy in resources(template, "AWS::IAM::Policy").values():
            if {"Ref": role} not in policy["Properties"]["Roles"]:
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if statement["Action"] == "lambda:InvokeFunction":
                    for resource in statement["Resource"]:
                        text = json.dumps(resource)
                        invoked |= set(re.findall(r'"(Functions[A-Za-z]+[0-9A-F]{8})"', text))
        assert invoked == used, name
        assert not any("Intake" in function or "ApprovalPage" in function for function in invoked)
        own = f"Functions{ROLLBACK_TYPES[name].construct_id}"
        others = {f"Functions{t.construct_id}" for t in ROLLBACK_TYPES.values()} - {own}
        assert not any(function.startswith(tuple(others)) for function in invoked), name


LOG_DELIVERY_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
}
HANDLER = re.compile(
    r"^functions\.(handlers\.[a-z_]+|rollbacks\.[a-z_]+\.handlers|capabilities\.[a-z_]+\.[a-z_]+_handlers)\.[a-z_]+$"
)
NO_RESOURCE_LEVEL = LOG_DELIVERY_ACTIONS | {"cloudwatch:GetMetricData", "logs:GetQueryResults"}
NO_RESOURCE_LEVEL |= {"ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"}  # infrastructure: the revisions


def test_wildcard_resources_are_only_for_apis_without_resource_permissions(synthesized: Synthesized) -> None:
    # X-Ray, Step Functions' log delivery, GetMetricData, GetQueryResults and the ECS task definition reads cannot be
    # scoped to a resource; nothing else may use "*"
    for name, policy in resources(synthesized.template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Resource"] == "*":
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all(a.startswith("xray:") or a in NO_RESOURCE_LEVEL for a in actions), (name, actions)


def test_functions_share_runtime_architecture_logging_and_tracing(synthesized: Synthesized) -> None:
    functions = resources(synthesized.template, "AWS::Lambda::Function")
    slices = sum(len(ROLLBACK_TYPES[name].functions) for name in state_machines(synthesized.template))
    assert len(functions) == 11 + slices
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Architectures"] == ["arm64"], name
        assert props["Runtime"] == "python3.11", name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert props["LoggingConfig"]["LogFormat"] == "JSON", name
        assert HANDLER.match(props["Handler"]), name
        assert props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "rollback-pipeline"
    retention = {
        g["Properties"].get("RetentionInDays") for g in resources(synthesized.template, "AWS::Logs::LogGroup").values()
    }
    assert retention == {30}


def test_handlers_named_in_the_template_exist(synthesized: Synthesized) -> None:
    import importlib

    for function in resources(synthesized.template, "AWS::Lambda::Function").values():
        module, attribute = function["Properties"]["Handler"].rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), attribute))


def test_tables_locks_have_ttl_and_approvals_are_encrypted_with_a_customer_key(synthesized: Synthesized) -> None:
    tables = {
        t["Properties"]["KeySchema"][0]["AttributeName"]: t["Properties"]
        for t in resources(synthesized.template, "AWS::DynamoDB::Table").values()
    }
    assert set(tables) == {"lock_key", "approval_id", "rollback_id", "incident_key"}
    assert tables["lock_key"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert tables["incident_key"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert tables["approval_id"]["SSESpecification"]["SSEType"] == "KMS"
    assert "KMSMasterKeyId" in tables["approval_id"]["SSESpecification"]
    for props in tables.values():
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_alarm_rule_targets_intake_on_alarm_state(synthesized: Synthesized) -> None:
    rule = next(r for k, r in resources(synthesized.template, "AWS::Events::Rule").items() if k.startswith("Alarm"))
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.cloudwatch"]
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    assert pattern["detail"]["state"] == {"value": ["ALARM"]}
    # Narrowed to the alarms the decision matrix knows (tests/infrastructure/test_alarm_intake.py)
    assert pattern["detail"] == intake_alarm_detail(load_matrix())
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0].startswith("FunctionsIntake")
    assert "DeadLetterConfig" in target


def test_ended_rollbacks_are_cleaned_up_from_their_status_change_events(synthesized: Synthesized) -> None:
    rule = next(r for k, r in resources(synthesized.template, "AWS::Events::Rule").items() if k.startswith("Rollback"))
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert pattern["detail"]["status"] == ["ABORTED", "TIMED_OUT", "FAILED"]
    machines = resources(synthesized.template, "AWS::StepFunctions::StateMachine")
    assert sorted(json.dumps(m) for m in pattern["detail"]["stateMachineArn"]) == sorted(
        json.dumps({"Ref": machine}) for machine in machines
    )
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0].startswith("FunctionsCleanUpEndedRollback")
    assert "DeadLetterConfig" in target


def test_no_approver_is_subscribed_to_sns(synthesized: Synthesized) -> None:
    # Given the configured approvers and war room
    context = base_context()["rollback"]
    approvers = {approver["email"] for approver in context["approvers"]}
    # Then SNS email subscriptions (which carry a one-click unsubscribe link) are broadcasts' (the war room,
    # the platform's alerts), never an approver's: approvers get their emails through SES, one message each
    subscriptions = [s["Properties"] for s in resources(synthesized.template, "AWS::SNS::Subscription").values()]
    endpoints = {s["Endpoint"] for s in subscriptions}
    assert set(context["war_room_emails"]) <= endpoints
    assert not endpoints & approvers
    assert not any("FilterPolicy" in s for s in subscriptions)
    assert not [t for t in resources(synthesized.template, "AWS::SNS::Topic") if "Approval" in t]


def test_api_stage_does_not_log_request_data(synthesized: Synthesized) -> None:
    (stage,) = resources(synthesized.template, "AWS::ApiGateway::Stage").values()
    settings = stage["Properties"]["MethodSettings"][0]
    assert settings["DataTraceEnabled"] is False
    assert "AccessLogSetting" in stage["Properties"]


def test_synth_needs_no_lookups_or_credentials(synthesized: Synthesized) -> None:
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    assert "missing" not in manifest
    assert synthesized.template["Resources"]


def test_the_lock_outlives_the_execution_and_every_task_has_a_timeout(synthesized: Synthesized) -> None:
    # Given the deployed definitions and the lock function's TTL
    (acquire,) = [
        r["Properties"] for k, r in resources(synthesized.template, "AWS::Lambda::Function").items()
        if k.startswith("FunctionsAcquireLock")
    ]  # fmt: skip
    for machine in state_machines(synthesized.template).values():
        definition = json.loads(machine["DefinitionString"])
        # Then every execution times out (in the definition itself) before a held lock would expire
        assert 0 < definition["TimeoutSeconds"] < int(acquire["Environment"]["Variables"]["LOCK_TTL_SECONDS"])
        # And no top-level task can wait forever (a task inside a Map is bounded by its function's own timeout)
        tasks = [s for s in definition["States"].values() if s["Type"] == "Task"]
        assert tasks and all({"TimeoutSeconds", "TimeoutSecondsPath"} & set(task) for task in tasks)
