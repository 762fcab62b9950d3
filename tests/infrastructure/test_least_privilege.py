"""Least privilege, read from the synthesized template: each function's role may do on each table exactly what
its code does, no more. The internet-facing approval page only reads and updates approval requests; the audit
trail is append-only for everyone (no update, no delete); no table is scanned."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from local.synth import Synthesized

ALLOWED: dict[str, dict[str, set[str]]] = {
    "AcquireLock": {"Locks": {"PutItem", "ConditionCheckItem", "GetItem"}, "Audit": {"PutItem"}},
    "ReleaseLock": {"Locks": {"DeleteItem"}},
    "RequestApproval": {"Approvals": {"GetItem", "UpdateItem", "PutItem"}, "Audit": {"PutItem"}},
    "EscalateApproval": {"Approvals": {"GetItem", "UpdateItem"}, "Audit": {"PutItem"}},
    "ApprovalPage": {"Approvals": {"GetItem", "UpdateItem"}, "Audit": {"PutItem"}},
    "AnnounceRollback": {"Audit": {"PutItem"}},
    "KubernetesAppRollBackDeployment": {"Approvals": {"GetItem"}, "Audit": {"PutItem", "Query"}},
    "WriteReport": {"Audit": {"Query", "PutItem"}},
    "Intake": {"Incidents": {"GetItem", "PutItem", "UpdateItem"}},
    "CleanUpEndedRollback": {
        "Approvals": {"GetItem", "UpdateItem"},
        "Locks": {"DeleteItem"},
        "Audit": {"Query", "PutItem"},
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
