"""Least privilege, read from the synthesized template: each function's role may do on each table exactly what
its code does, no more. The internet-facing approval page only reads and updates approval requests; the audit
trail is append-only for everyone (no update, no delete); no table is scanned. Only the approval steps may send
email, from the configured SES identity and address only."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from local.synth import Synthesized, base_context

ALLOWED: dict[str, dict[str, set[str]]] = {
    "AcquireLock": {"Locks": {"PutItem", "ConditionCheckItem", "GetItem"}, "Audit": {"PutItem"}},
    "ReleaseLock": {"Locks": {"DeleteItem"}},
    "RequestApproval": {"Approvals": {"GetItem", "UpdateItem", "PutItem"}, "Audit": {"PutItem"}},
    "EscalateApproval": {"Approvals": {"GetItem", "UpdateItem"}, "Audit": {"PutItem"}},
    "ApprovalPage": {"Approvals": {"GetItem", "UpdateItem"}, "Audit": {"PutItem"}},
    "AnnounceRollback": {"Audit": {"PutItem"}},
    "KubernetesAppRollBackDeployment": {"Approvals": {"GetItem"}, "Audit": {"PutItem", "Query"}},
    **{
        f"Database{kind}{step}": {"Approvals": {"GetItem"}, "Audit": {"PutItem", "Query"}}
        for kind in ("Pitr", "Snapshot")
        for step in ("RestoreInstance", "SwitchConnection", "RestartApplication")
    },
    **{
        f"DatabaseSchema{step}": {"Approvals": {"GetItem"}, "Audit": {"PutItem", "Query"}}
        for step in ("TakeSnapshot", "StartMigrationRollback", "RecordMigrationRollback")
    },
    **{
        f"FeatureFlag{step}": {"Approvals": {"GetItem"}, "Audit": {"PutItem", "Query"}}
        for step in ("SetFlag", "PutFlagsBack")
    },
    **{
        f"Edge{step}": {"Approvals": {"GetItem"}, "Audit": {"PutItem", "Query"}}
        for step in ("ChangeDistribution", "ChangeRecord")
    },
    **{
        f"Infrastructure{step}": {"Approvals": {"GetItem"}, "Audit": {"PutItem", "Query"}}
        for step in ("ApplyTerraform", "RecordTerraform", "RollBackService", "RecordService")
    },
    # The report writers close out the incident the alarm opened (one conditional update of its item) and keep it
    # closed as an item of its own
    "WriteReport": {"Audit": {"Query", "PutItem"}, "Incidents": {"UpdateItem", "PutItem"}},
    "Intake": {"Incidents": {"GetItem", "PutItem", "UpdateItem"}},
    "CleanUpEndedRollback": {
        "Approvals": {"GetItem", "UpdateItem"},
        "Locks": {"DeleteItem"},
        "Audit": {"Query", "PutItem"},
        "Incidents": {"UpdateItem", "PutItem"},
    },
}


def table_actions_by_function(template: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    resources = template["Resources"]
    role_of = {
        name.removeprefix("Functions"): r["Properties"]["Role"]["Fn::GetAtt"][0]
        for name, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function"
    }
    granted: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for policy in (r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"):
        roles = {role["Ref"] for role in policy["Properties"]["Roles"]}
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            tables = set(re.findall(r'"State(Locks|Approvals|Audit|Incidents)[0-9A-F]{8}"', json.dumps(statement)))
            for function, role in role_of.items():
                if role in roles:
                    for table in tables:
                        granted[function][table] |= {a.removeprefix("dynamodb:") for a in actions if "dynamodb:" in a}
    return {re.sub(r"[0-9A-F]{8}$", "", name): dict(tables) for name, tables in granted.items()}


def test_every_function_may_do_on_each_table_exactly_what_its_code_does(synthesized: Synthesized) -> None:
    granted = table_actions_by_function(synthesized.template)
    assert granted == ALLOWED


def test_only_writers_of_approval_requests_may_encrypt_with_their_key(synthesized: Synthesized) -> None:
    resources = synthesized.template["Resources"]
    key = next(name for name, r in resources.items() if r["Type"] == "AWS::KMS::Key" and "Approvals" in name)
    users = set()
    for policy in (r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if key in json.dumps(statement.get("Resource")) and "kms:Encrypt" in actions:
                users |= {re.sub(r"ServiceRole[0-9A-F]{8}$", "", r["Ref"]) for r in policy["Properties"]["Roles"]}
    # The executing step only reads the approval record: it may decrypt, never encrypt
    assert not any("RollBackDeployment" in user for user in users)


def ses_statements_by_function(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every policy statement that allows an SES action, by function (the function's name without its hash)."""
    resources = template["Resources"]
    role_of = {
        re.sub(r"[0-9A-F]{8}$", "", name.removeprefix("Functions")): r["Properties"]["Role"]["Fn::GetAtt"][0]
        for name, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function"
    }
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for policy in (r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"):
        roles = {role["Ref"] for role in policy["Properties"]["Roles"]}
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a.startswith("ses:") or a == "*" for a in actions):
                found.update({f: [*found[f], statement] for f, role in role_of.items() if role in roles})
    return dict(found)


def test_only_the_approval_steps_may_send_email_and_only_from_the_configured_identity(
    synthesized: Synthesized,
) -> None:
    # Given the configured sender
    sender = base_context()["rollback"]["approval_email"]["from_address"]
    # When the template's policies are read
    granted = ses_statements_by_function(synthesized.template)
    # Then only the request and escalation steps may send; the internet-facing approval page may not send at all
    assert sorted(granted) == ["EscalateApproval", "RequestApproval"]
    for statements in granted.values():
        (statement,) = statements
        # ses:SendEmail alone, on the sender's identity alone, from the configured address alone
        assert statement["Effect"] == "Allow" and statement["Action"] == "ses:SendEmail"
        assert json.dumps(statement["Resource"]).endswith(':identity/skillancer.com"]]}')
        assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": sender}}


def actions_by_function(template: dict[str, Any]) -> dict[str, set[str]]:
    """Every action each function's role may take (any resource)."""
    resources = template["Resources"]
    role_of = {
        re.sub(r"[0-9A-F]{8}$", "", name.removeprefix("Functions")): r["Properties"]["Role"]["Fn::GetAtt"][0]
        for name, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function"
    }
    actions: dict[str, set[str]] = defaultdict(set)
    for policy in (r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"):
        roles = {role["Ref"] for role in policy["Properties"]["Roles"]}
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for function, role in role_of.items():
                if role in roles:
                    actions[function] |= set(listed)
    return actions


def test_only_the_restore_step_restores_and_only_the_switch_step_writes_the_connection(
    synthesized: Synthesized,
) -> None:
    actions = actions_by_function(synthesized.template)
    restorers = {f for f, a in actions.items() if any(x.startswith("rds:Restore") for x in a)}
    writers = {f for f, a in actions.items() if {"secretsmanager:PutSecretValue", "ssm:PutParameter"} & a}
    assert restorers == {"DatabasePitrRestoreInstance", "DatabaseSnapshotRestoreInstance"}
    assert writers == {"DatabasePitrSwitchConnection", "DatabaseSnapshotSwitchConnection"}
    # And nothing may delete, stop, reboot or modify a database: the source stays as it was, for forensics
    touching = {f: sorted(x for x in a if re.match(r"rds:(Delete|Stop|Reboot|Modify|Promote|Failover)", x))
                for f, a in actions.items()}  # fmt: skip
    assert {f: found for f, found in touching.items() if found} == {}


def test_only_the_report_writers_may_query_logs_and_only_the_configured_log_groups(synthesized: Synthesized) -> None:
    # Given the log groups preserve_logs names
    (group,) = base_context()["rollback"]["preserve_logs"]["skillancer"]["log_groups"]
    # When the template's policies are read
    actions = actions_by_function(synthesized.template)
    starters = sorted(f for f, a in actions.items() if "logs:StartQuery" in a or "logs:*" in a or "*" in a)
    # Then only the two functions that write a report may start a Logs Insights query
    assert starters == ["CleanUpEndedRollback", "WriteReport"]
    for policy in (r for r in synthesized.template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Action"] != "logs:StartQuery":
                continue
            # on exactly that log group, in IAM's two forms of its ARN (with and without its streams' ":*")
            arns = [json.dumps(resource) for resource in statement["Resource"]]
            assert len(arns) == 2 and all(f":log-group:{group}" in arn for arn in arns)
            assert sorted(arn.endswith(f':log-group:{group}:*"]]}}') for arn in arns) == [False, True]
