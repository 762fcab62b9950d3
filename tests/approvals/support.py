"""What the approval attack tests share: a rollback waiting for approval, raw HTTP requests to the page, the
stored approval record, the audit trail, and links signed with the deployment's real key."""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import boto3

from functions.adapters.audit import AuditLog
from functions.logic import links
from local.approver import USER_AGENT, PageResponse
from local.pipeline import LocalPipeline, rollback_input

ON_CALL = "oncall-primary@skillancer.com"
SECOND_ON_CALL = "oncall-secondary@skillancer.com"
LEAD = "eng-lead@skillancer.com"
CTO = "cto@skillancer.com"
SECURITY = "security@skillancer.com"

REFUSALS = ("approval link refused", "approval decision refused")
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


# --- HTTP, as a browser, a scanner or an attacker sends it ------------------------------------------------


def send(method: str, url: str, form: dict[str, str] | None = None) -> PageResponse:
    """One HTTP request to the gateway; a 4xx/5xx is returned, not raised."""
    data = urlencode(form).encode() if form is not None else None
    headers = {"User-Agent": USER_AGENT}
    if data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return PageResponse(response.status, response.read().decode(), dict(response.headers.items()))
    except urllib.error.HTTPError as error:
        return PageResponse(error.code, error.read().decode(), dict(error.headers.items()))


def get(link: str) -> PageResponse:
    return send("GET", link)


def post(link: str, form: dict[str, str]) -> PageResponse:
    """POST ``form`` where the page's form posts it: the link's path, without its query."""
    return send("POST", urlunsplit(urlsplit(link)._replace(query="")), form)


def form_fields(page: PageResponse) -> dict[str, str]:
    """The hidden fields of the page's form (signature, CSRF token...), as a browser would submit them."""
    return {name: unescape(value) for name, value in HIDDEN_INPUT.findall(page.html)}


def query(link: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(link).query))


def with_query(link: str, **changes: str) -> str:
    parts = urlsplit(link)
    return urlunsplit(parts._replace(query=urlencode(query(link) | changes)))


def approval_id_of(link: str) -> str:
    return urlsplit(link).path.rsplit("/", 1)[1]


def header(page: PageResponse, name: str) -> str | None:
    return next((value for key, value in page.headers.items() if key.lower() == name.lower()), None)


def assert_security_headers(page: PageResponse) -> None:
    assert header(page, "Referrer-Policy") == "no-referrer", page.headers
    assert header(page, "Cache-Control") == "no-store", page.headers
    assert header(page, "X-Frame-Options") == "DENY", page.headers
    assert header(page, "X-Content-Type-Options") == "nosniff", page.headers
    csp = header(page, "Content-Security-Policy") or ""
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, page.headers


def assert_refused(page: PageResponse, says: str, status: int = 403) -> None:
    """A clear refusal: a 4xx page with a message, no form to decide with, and the usual security headers."""
    assert page.status == status, (page.status, page.text)
    assert says in page.text, page.text
    assert "<form" not in page.html
    assert_security_headers(page)


def invoke_page_function(pipeline: LocalPipeline, method: str, link: str, form: dict[str, str]) -> dict[str, Any]:
    """Send the page function an API Gateway proxy event directly (bypassing the API's method list)."""
    path = urlsplit(link).path.removeprefix("/v1")
    event = {
        "resource": "/approvals/{approval_id}",
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        "queryStringParameters": query(link),
        "pathParameters": {"approval_id": approval_id_of(link)},
        "requestContext": {
            "resourcePath": "/approvals/{approval_id}",
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": "direct",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "test"},
        },
        "body": urlencode(form),
        "isBase64Encoded": False,
    }
    response = pipeline.lambda_.invoke(
        FunctionName=pipeline.deployment.function_name("FunctionsApprovalPage"), Payload=json.dumps(event).encode()
    )
    assert "FunctionError" not in response, response["Payload"].read()
    result: dict[str, Any] = json.loads(response["Payload"].read())
    return result


# --- the rollback under attack ----------------------------------------------------------------------------


@dataclass
class Rollback:
    """A rollback waiting in "Request approval", its approval emails delivered."""

    pipeline: LocalPipeline
    execution: str

    def link(self, email: str) -> str:
        return self.pipeline.link_for(email)

    @property
    def rollback_id(self) -> str:
        return self.execution.rsplit(":", 1)[1]

    @property
    def approval_id(self) -> str:
        return approval_id_of(self.pipeline.approval_emails.received[0].links[0])

    def item(self) -> dict[str, Any]:
        """The approval record exactly as stored (status, decisions, task token, document)."""
        table = self.pipeline.deployment.table_name("StateApprovals")
        key = {"approval_id": {"S": self.approval_id}}
        return dict(self.pipeline.dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])

    def status(self) -> str:
        return str(self.item()["status"]["S"])

    def decisions(self) -> list[str]:
        return sorted(self.item()["decisions"]["M"])

    def task_token(self) -> str:
        return str(self.item()["task_token"]["S"])

    def nonce_of(self, approver_id: str) -> str | None:
        nonces: dict[str, str] = json.loads(self.item()["document"]["S"])["nonces"]
        return nonces.get(approver_id)

    def inject_nonce(self, approver_id: str, nonce: str) -> None:
        """Put a nonce for ``approver_id`` into the stored record (to reach the checks behind the link's)."""
        document = json.loads(self.item()["document"]["S"])
        document["nonces"][approver_id] = nonce
        self.pipeline.dynamodb.update_item(
            TableName=self.pipeline.deployment.table_name("StateApprovals"),
            Key={"approval_id": {"S": self.approval_id}},
            UpdateExpression="SET #document = :document",
            ExpressionAttributeNames={"#document": "document"},
            ExpressionAttributeValues={":document": {"S": json.dumps(document)}},
        )

    def audit(self, key: str | None = None) -> list[dict[str, Any]]:
        """Audit events of this rollback (or of ``key``: refusals are kept under ``approval:<id in the URL>``)."""
        log = AuditLog(self.pipeline.dynamodb, self.pipeline.deployment.table_name("StateAudit"))
        return log.events(key or self.rollback_id)

    def refusals(self, approval_id: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.audit(f"approval:{approval_id or self.approval_id}") if e["event"] in REFUSALS]

    def signing_key(self) -> bytes:
        secret = self.pipeline.deployment.find("AWS::SecretsManager::Secret", "ApprovalSigningKey").physical_id
        value = boto3.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
        return str(value).encode()

    def claims(self, approver_id: str, expires: int, nonce: str) -> links.LinkClaims:
        return links.LinkClaims(self.approval_id, approver_id, expires, nonce)

    def signed_link(self, claims: links.LinkClaims) -> str:
        """A link signed with the deployment's real key, as only the request step could make it."""
        return links.build_url(self.pipeline.gateway.base_url, self.signing_key(), claims)

    def signed_form(self, claims: links.LinkClaims, decision: str = "approve") -> dict[str, str]:
        """The form the page would carry for ``claims``, its CSRF token included."""
        key = self.signing_key()
        return {
            "a": claims.approver_id,
            "e": str(claims.expires),
            "n": claims.nonce,
            "s": links.sign(key, claims),
            "csrf": links.csrf_token(key, claims),
            "decision": decision,
        }

    def describe(self) -> dict[str, Any]:
        return self.pipeline.describe(self.execution)

    def is_waiting_for_approval(self) -> bool:
        states = self.pipeline.states_entered(self.execution)
        return self.describe()["status"] == "RUNNING" and states[-1] == "Request approval"

    def approval_callbacks(self) -> list[str]:
        """How the approval task was answered (SendTaskSuccess -> TaskSucceeded, SendTaskFailure -> TaskFailed)."""
        return [
            event["type"]
            for event in self.pipeline.aws.execution_events(self.execution)
            if event["type"] in ("TaskSucceeded", "TaskFailed")
            and str(event.get(f"{event['type'][0].lower()}{event['type'][1:]}EventDetails", {}).get("resource"))
            == "invoke.waitForTaskToken"
        ]

    def assert_unchanged(self, before: dict[str, Any]) -> None:
        """Nothing was decided: the record is exactly as before and the workflow still waits for approval."""
        assert self.item() == before
        assert self.is_waiting_for_approval(), self.pipeline.states_entered(self.execution)


def start_rollback(pipeline: LocalPipeline, name: str, emails: int = 3, **changes: Any) -> Rollback:
    """Start a rollback (``changes`` to the default input) and wait until its ``emails`` approval emails arrived."""
    execution = pipeline.start(rollback_input(**changes), name=name)
    pipeline.wait_for_state(execution, "Request approval")
    pipeline.approval_requests(count=emails)
    return Rollback(pipeline, execution)


# --- the functions as deployed, and everything they log -------------------------------------------------

SDK_AND_EMULATOR_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "moto")


def function_environment(pipeline: LocalPipeline, logical_id: str = "FunctionsApprovalPage") -> dict[str, str]:
    """The environment variables a deployed function runs with."""
    configuration = pipeline.lambda_.get_function_configuration(
        FunctionName=pipeline.deployment.function_name(logical_id)
    )
    return dict(configuration["Environment"]["Variables"])


@dataclass(frozen=True)
class LogLine:
    logger: str
    text: str


@contextmanager
def every_log_record(pipeline: LocalPipeline) -> Iterator[list[LogLine]]:
    """Collect every log record at DEBUG, the functions' Powertools logger lowered to DEBUG too, each rendered
    with all its fields (message, arguments, ``extra`` keys, exception)."""
    with mock.patch.dict(os.environ, function_environment(pipeline)):
        from functions import observability  # imported as a function would, if no invocation did yet
    lines: list[LogLine] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            fields = json.dumps(record.__dict__, default=str)
            error = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
            lines.append(LogLine(record.name, f"{record.getMessage()} {fields} {error}"))

    keep, root, powertools = Keep(logging.DEBUG), logging.getLogger(), observability.logger
    loggers = [root] if powertools._logger.propagate else [root, powertools._logger]
    saved_root, saved_powertools = root.level, powertools.log_level
    for each in loggers:
        each.addHandler(keep)
    root.setLevel(logging.DEBUG)
    powertools.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        for each in loggers:
            each.removeHandler(keep)
        root.setLevel(saved_root)
        powertools.setLevel(saved_powertools)
