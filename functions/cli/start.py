"""``rollback start``: build the workflow input, validate it here, show it, and start it only with --confirm."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import socket
import sys
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from functions.cli.aws import StepFunctions
from functions.cli.errors import EXIT_CODES, OK, UsageError
from functions.cli.render import print_json
from functions.logic.validation import describe_validation_error
from functions.models.rollback import KubernetesAppRollbackInput

REQUESTER_VARIABLE = "ROLLBACK_REQUESTED_BY"
# Step Functions allows more, but these are the characters its CloudWatch logging keeps intact.
EXECUTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    start = commands.add_parser(
        "start",
        parents=[common],
        epilog=EXIT_CODES,
        help="start a rollback (only shows what it would start unless --confirm)",
        description="Build the workflow input, validate it, and show what would be started (state machine, "
        "execution name, input); --confirm starts it and prints the execution ARN. --dry-run asks the workflow "
        "for the plan only (checks, no change, no approval); it too needs --confirm to start.",
    )
    start.add_argument("rollback_type", choices=["kubernetes_app"], help="which rollback workflow to start")
    start.add_argument("--service", required=True, help="service being rolled back, e.g. skillancer")
    start.add_argument("--environment", required=True, help="environment, e.g. production")
    start.add_argument("--namespace", help="Kubernetes namespace (default: the environment)")
    start.add_argument(
        "--deployment",
        action="append",
        default=[],
        metavar="NAME",
        help="deployment to roll back; repeat for several, rolled back together (at least one)",
    )
    target = start.add_mutually_exclusive_group()
    target.add_argument("--version", help="roll back to the newest revision running this image tag, e.g. v1.0.0-rc.5")
    target.add_argument("--revision", type=int, help="roll back to this revision (kubectl numbering)")
    start.add_argument("--reason", required=True, help="why: shown to the approvers and in the report")
    start.add_argument(
        "--requested-by",
        metavar="IDENTITY",
        help=f"who asks, as in the approvers directory (id or email), who then cannot approve it "
        f"(default: ${REQUESTER_VARIABLE}, else $USER@hostname)",
    )
    start.add_argument("--severity", choices=["P0", "P1", "P2", "P3"], default="P1", help="severity (default: P1)")
    start.add_argument("--scenario", help="decision-matrix scenario (default: Manual rollback)")
    start.add_argument(
        "--role",
        action="append",
        metavar="ROLE",
        help="role that must approve, each by a different person; repeat (default: on-call and lead)",
    )
    start.add_argument(
        "--dry-run", action="store_true", help="have the workflow run every check and report the plan, changing nothing"
    )
    start.add_argument("--name", help="execution name (default: <service>-<environment>-<UTC timestamp>)")
    start.add_argument("--confirm", action="store_true", help="really start it (without: show what would start)")
    start.set_defaults(handler=run)


def requester() -> str:
    configured = os.environ.get(REQUESTER_VARIABLE, "").strip()
    if configured:
        return configured
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def default_name(service: str, environment: str, now: datetime) -> str:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{service}-{environment}"[: 80 - len(stamp) - 1] + f"-{stamp}"


def rollback_input(args: argparse.Namespace) -> dict[str, Any]:
    """The workflow input, validated with the workflow's own model (a bad field: UsageError naming it)."""
    payload: dict[str, Any] = {
        "service": args.service,
        "environment": args.environment,
        "deployments": args.deployment,
        "reason": args.reason,
        "requested_by": args.requested_by or requester(),
        "severity": args.severity,
        "dry_run": args.dry_run,
    }
    optional = {
        "namespace": args.namespace,
        "to_version": args.version,
        "to_revision": args.revision,
        "scenario": args.scenario,
        "required_roles": args.role,
    }
    payload |= {key: value for key, value in optional.items() if value is not None}
    try:
        KubernetesAppRollbackInput.model_validate(payload)
    except ValidationError as error:
        raise UsageError(f"invalid rollback input: {describe_validation_error(error)}") from None
    return {field: payload[field] for field in KubernetesAppRollbackInput.model_fields if field in payload}


def run(args: argparse.Namespace) -> int:
    payload = rollback_input(args)
    name = args.name or default_name(args.service, args.environment, datetime.now(UTC))
    if not EXECUTION_NAME.fullmatch(name):
        raise UsageError(f"--name: {name!r} must be 1 to 80 letters, digits, '-' or '_'")
    if not args.requested_by and not os.environ.get(REQUESTER_VARIABLE, "").strip():
        print(
            f"note: requested_by is {payload['requested_by']}; the workflow keeps a requester from approving only "
            f"when this is their approver id or email: pass --requested-by or set {REQUESTER_VARIABLE}",
            file=sys.stderr,
        )
    sfn = StepFunctions(stack=args.stack, region=args.region, endpoint_url=args.endpoint_url)
    machine = sfn.state_machine_arn(args.rollback_type)
    if not args.confirm:
        if args.output == "json":
            print_json({"started": False, "state_machine_arn": machine, "name": name, "input": payload})
        else:
            kind = "dry run (plan only)" if args.dry_run else "rollback"
            print(f"Would start a {args.rollback_type} {kind}\n  state machine: {machine}\n  name: {name}")
            print("  input:\n" + "\n".join("    " + line for line in json.dumps(payload, indent=2).splitlines()))
            print("Nothing started: add --confirm to start it.")
        return OK
    arn = sfn.start(machine, name, payload)
    if args.output == "json":
        print_json({"started": True, "state_machine_arn": machine, "name": name, "execution_arn": arn})
    else:
        print(f"Started {arn}\nFollow it: rollback status {name} --follow")
    return OK
