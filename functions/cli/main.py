"""``rollback``: the runbook's ``./scripts/rollback.sh --environment=production --version=v1.0.0-rc.5 --confirm``,
as a client of the deployed workflows.

    rollback start kubernetes_app --service skillancer --environment production \\
        --deployment skillancer-web --deployment skillancer-api --version v1.0.0-rc.5 --reason "..." --confirm
    rollback status [EXECUTION] [--follow]
    rollback list [--status RUNNING]
    rollback history SERVICE

Works against AWS, or the local emulators with ``--endpoint-url``. Without ``--confirm``, ``start`` only shows
what it would start. Exit codes: 0 ok, 1 the followed rollback failed, 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
import time
from datetime import UTC, datetime
from typing import Any

import boto3
from pydantic import ValidationError

from functions.logic.validation import describe_validation_error
from functions.models.rollback import KubernetesAppRollbackInput

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class UsageError(Exception):
    """Bad arguments or input: exit code 2."""


def _client(args: argparse.Namespace) -> Any:
    return boto3.client("stepfunctions", region_name=args.region, endpoint_url=args.endpoint_url)


def _state_machine_arn(sfn: Any, stack: str, rollback_type: str = "kubernetes_app") -> str:
    name = f"{stack}-{rollback_type.replace('_', '-')}"
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == name:
                return str(machine["stateMachineArn"])
    raise UsageError(f"no state machine named {name} (is the stack {stack!r} deployed in this region?)")


def _execution_arn(sfn: Any, args: argparse.Namespace) -> str:
    if args.execution and args.execution.startswith("arn:"):
        return str(args.execution)
    machine = _state_machine_arn(sfn, args.stack)
    if args.execution:
        return machine.replace(":stateMachine:", ":execution:") + f":{args.execution}"
    executions = sfn.list_executions(stateMachineArn=machine, maxResults=1)["executions"]
    if not executions:
        raise UsageError("no rollback has run yet")
    return str(executions[0]["executionArn"])


def _print(args: argparse.Namespace, value: Any, text: str) -> None:
    print(json.dumps(value, indent=2, default=str) if args.output == "json" else text)


def cmd_start(args: argparse.Namespace) -> int:
    payload: dict[str, Any] = {
        "service": args.service,
        "environment": args.environment,
        "deployments": args.deployment or [],
        "reason": args.reason,
        "requested_by": args.requested_by or f"{getpass.getuser()}@{socket.gethostname()}",
        "severity": args.severity,
        "dry_run": args.dry_run,
    }
    optional = {
        "namespace": args.namespace, "to_version": args.version, "to_revision": args.revision,
        "scenario": args.scenario, "required_roles": args.role,
    }  # fmt: skip
    payload |= {key: value for key, value in optional.items() if value}
    try:
        KubernetesAppRollbackInput.model_validate(payload)
    except ValidationError as error:
        raise UsageError(f"invalid rollback input: {describe_validation_error(error)}") from None
    sfn = _client(args)
    machine = _state_machine_arn(sfn, args.stack)
    name = args.name or f"{args.service}-{args.environment}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    if not args.confirm:
        print(f"Would start {machine}\n  name: {name}\n  input: {json.dumps(payload, indent=2)}")
        print("Nothing started: add --confirm to start it.")
        return 0
    arn = sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(payload))["executionArn"]
    _print(args, {"executionArn": arn}, f"Started {arn}\nFollow it: rollback status {name} --follow")
    return 0


def _entered(events: list[dict[str, Any]]) -> list[tuple[datetime, str]]:
    return [
        (e["timestamp"], e["stateEnteredEventDetails"]["name"]) for e in events if e["type"].endswith("StateEntered")
    ]


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    return events


def _summary(execution: dict[str, Any]) -> str:
    if execution["status"] == "SUCCEEDED" and execution.get("output"):
        report = json.loads(execution["output"])
        changes = ", ".join(f"{c['target']} {c['from']} -> {c['to']}" for c in report.get("changes", []))
        rto = report.get("rto_seconds")
        return f"{report.get('status')}: {changes or 'no change'}" + (f"; RTO {rto:.0f} s" if rto is not None else "")
    if execution["status"] in TERMINAL - {"SUCCEEDED"}:
        return f"{execution['status']}: {execution.get('error', '')} {execution.get('cause', '')}".strip()
    return str(execution["status"])


def cmd_status(args: argparse.Namespace) -> int:
    sfn = _client(args)
    arn = _execution_arn(sfn, args)
    shown = 0
    while True:
        execution = sfn.describe_execution(executionArn=arn)
        states = _entered(_history(sfn, arn))
        if args.output != "json":
            if shown == 0:
                print(f"{execution['name']}: {execution['status']}")
            for at, name in states[shown:]:
                print(f"  {at:%H:%M:%S}  {name}")
        shown = len(states)
        if not args.follow or execution["status"] in TERMINAL:
            break
        time.sleep(args.poll)
    if args.output == "json":
        print(json.dumps({"execution": execution, "states": [n for _, n in states]}, indent=2, default=str))
    else:
        print(_summary(execution))
    return 1 if args.follow and execution["status"] != "SUCCEEDED" else 0


def _executions(sfn: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    machine = _state_machine_arn(sfn, args.stack)
    filters = {"statusFilter": args.status} if getattr(args, "status", None) else {}
    return list(sfn.list_executions(stateMachineArn=machine, maxResults=args.max, **filters)["executions"])


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'NAME':48} {'STATUS':10} {'STARTED':20} STOPPED"]
    for e in rows:
        stop = e.get("stopDate")
        lines.append(f"{e['name']:48} {e['status']:10} {e['startDate']:%Y-%m-%d %H:%M:%S} {stop or '-'}")
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    rows = _executions(_client(args), args)
    _print(args, rows, _table(rows) if rows else "no rollbacks")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    sfn = _client(args)
    rows = []
    for execution in _executions(sfn, args):
        detail = sfn.describe_execution(executionArn=execution["executionArn"])
        if json.loads(detail.get("input") or "{}").get("service") == args.service:
            rows.append({**execution, "outcome": _summary(detail)})
    text = "\n".join(f"{r['startDate']:%Y-%m-%d %H:%M}  {r['name']}  {r['outcome']}" for r in rows)
    _print(args, rows, text or f"no rollbacks of {args.service}")
    return 0


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint-url", help="Step Functions endpoint (e.g. the local emulators' URL)")
    common.add_argument("--region", default=None, help="AWS region (default: from the environment)")
    common.add_argument("--stack", default="RollbackPipeline", help="stack name the workflows belong to")
    common.add_argument("--output", choices=("text", "json"), default="text", help="output format")
    root = argparse.ArgumentParser(prog="rollback", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)

    start = commands.add_parser("start", parents=[common], help="start a rollback (shows it unless --confirm)")
    start.add_argument("rollback_type", choices=["kubernetes_app"], help="which rollback workflow")
    start.add_argument("--service", required=True, help="service, e.g. skillancer")
    start.add_argument("--environment", required=True, help="environment, e.g. production")
    start.add_argument("--namespace", help="Kubernetes namespace (default: the environment)")
    start.add_argument("--deployment", action="append", help="deployment to roll back (repeat for several)")
    target = start.add_mutually_exclusive_group()
    target.add_argument("--version", help="roll back to the newest revision running this image tag")
    target.add_argument("--revision", type=int, help="roll back to this revision (kubectl numbering)")
    start.add_argument("--reason", required=True, help="why: shown to approvers and in the report")
    start.add_argument("--requested-by", help="your identity (default: user@host); you cannot approve it")
    start.add_argument("--severity", choices=["P0", "P1", "P2", "P3"], default="P1", help="severity")
    start.add_argument("--scenario", help="decision-matrix scenario")
    start.add_argument("--role", action="append", help="role that must approve (repeat; default on-call + lead)")
    start.add_argument("--dry-run", action="store_true", help="run the checks and report the plan only")
    start.add_argument("--name", help="execution name (default: service-environment-timestamp)")
    start.add_argument("--confirm", action="store_true", help="really start it")
    start.set_defaults(handler=cmd_start)

    status = commands.add_parser("status", parents=[common], help="a rollback's states so far")
    status.add_argument("execution", nargs="?", help="execution name or ARN (default: the latest)")
    status.add_argument("--follow", action="store_true", help="print states as they happen until it ends")
    status.add_argument("--poll", type=float, default=2.0, help="seconds between polls with --follow")
    status.set_defaults(handler=cmd_status)

    listing = commands.add_parser("list", parents=[common], help="recent rollbacks")
    listing.add_argument("--status", choices=["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])
    listing.add_argument("--max", type=int, default=50, help="how many")
    listing.set_defaults(handler=cmd_list)

    history = commands.add_parser("history", parents=[common], help="rollbacks of one service")
    history.add_argument("service", help="service name")
    history.add_argument("--max", type=int, default=100, help="how many executions to look through")
    history.set_defaults(handler=cmd_history)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except UsageError as error:
        print(f"rollback: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
