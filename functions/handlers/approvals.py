"""Approval entry points: the workflow's ``.waitForTaskToken`` request, and the approval page behind API Gateway."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from functions.adapters.approvals_store import ApprovalStore
from functions.adapters.audit import AuditLog
from functions.adapters.aws import client
from functions.adapters.mailer import SesEmailSender, ses_client
from functions.logic import approval_page, approvals, identity, links, sign_in
from functions.models.rollback import RollbackPlan, RollbackRequest
from functions.observability import logger, tracer
from functions.settings import (
    ApprovalEmailSettings,
    ApprovalSettings,
    ApprovalTables,
    identity_provider,
    load_settings,
)
from functions.steps import step

app = APIGatewayRestResolver()


class RequestApprovalEvent(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    task_token: str
    request: RollbackRequest
    plan: RollbackPlan


class ApprovalRequested(BaseModel):
    approval_id: str
    notified: list[str]


def _signing_key(settings: ApprovalSettings) -> bytes:
    secret = parameters.get_secret(settings.signing_secret_arn, max_age=300)
    return str(secret).encode()


def _store() -> ApprovalStore:
    return ApprovalStore(client("dynamodb"), load_settings(ApprovalTables).approvals)


def _audit() -> AuditLog:
    return AuditLog(client("dynamodb"), load_settings(ApprovalTables).audit)


def _mailer() -> SesEmailSender:
    """Approval emails, one per person, from the configured SES identity (only the request and escalation steps)."""
    email = load_settings(ApprovalEmailSettings)
    return SesEmailSender(ses_client(), email.from_address, email.configuration_set)


@step
def request_approval(parsed: RequestApprovalEvent) -> ApprovalRequested:
    settings = load_settings(ApprovalSettings)
    requested = approvals.request_approval(
        request=parsed.request,
        plan=parsed.plan,
        task_token=parsed.task_token,
        settings=settings,
        key=_signing_key(settings),
        store=_store(),
        mailer=_mailer(),
        callbacks=client("stepfunctions"),
        audit=_audit(),
        now=datetime.now(UTC),
    )
    logger.info("approval requested", extra={"approval_id": requested.approval_id, "notified": requested.notified})
    return ApprovalRequested(approval_id=requested.approval_id, notified=requested.notified)


class EscalateApprovalEvent(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    task_token: str
    request: RollbackRequest


class Escalated(BaseModel):
    notified: list[str]


@step
def escalate_approval(parsed: EscalateApprovalEvent) -> Escalated:
    settings = load_settings(ApprovalSettings)
    notified = approvals.escalate(
        request=parsed.request,
        task_token=parsed.task_token,
        settings=settings,
        store=_store(),
        mailer=_mailer(),
        callbacks=client("stepfunctions"),
        audit=_audit(),
        now=datetime.now(UTC),
    )
    logger.info("approval escalated", extra={"notified": notified})
    return Escalated(notified=notified)


def _html(status: int, body: str) -> Response:
    return Response(status, content_types.TEXT_HTML, body, headers=approval_page.SECURITY_HEADERS)


def _open(approval_id: str, params: dict[str, str]) -> tuple[ApprovalSettings, bytes, approvals.PageContext]:
    settings = load_settings(ApprovalSettings)
    key = _signing_key(settings)
    page = approvals.open_link(
        approval_id=approval_id, params=params, settings=settings, key=key, store=_store(), now=datetime.now(UTC)
    )
    return settings, key, page


@lru_cache(maxsize=4)
def _signing_keys(jwks_url: str) -> identity.SigningKeyFor:
    return identity.jwks_key_resolver(jwks_url)


def _bearer_token() -> str | None:
    """The approver's ID token: ``Authorization: Bearer`` (CLI, tests) or the sign-in cookie (browser)."""
    header = app.current_event.get_header_value("Authorization") or ""
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    cookies = SimpleCookie(app.current_event.get_header_value("Cookie") or "")
    return cookies[sign_in.COOKIE].value if sign_in.COOKIE in cookies else None


def _require_identity(page: approvals.PageContext) -> None:
    provider = identity_provider()
    if provider is not None:
        identity.verify_approver(_bearer_token(), page.approver, provider, _signing_keys(provider.jwks_url))


def _sign_in_redirect(key: bytes, approval_id: str, params: dict[str, str]) -> Response | None:
    """With browser sign-in configured and no valid ID token: a 303 to the provider's sign-in (PKCE, signed
    state naming this page), else None. A valid token of somebody else still sees the page; the POST refuses."""
    provider = identity_provider()
    if provider is None or not provider.browser_sign_in:
        return None
    try:
        identity.verify_id_token(_bearer_token(), provider, _signing_keys(provider.jwks_url))
        return None
    except identity.IdentityRejected:
        pass
    path = f"/approvals/{approval_id}"  # relative to the API, whatever its domain's base path
    state = sign_in.make_state(key, path, urlencode(params), datetime.now(UTC).timestamp())
    headers = {**approval_page.SECURITY_HEADERS, "Location": sign_in.authorize_url(provider, key, state)}
    body = approval_page.message_page("Sign in", "Sign in with your company account to see this rollback.")
    return Response(303, content_types.TEXT_HTML, body, headers=headers)


@app.get("/auth/callback")
def sign_in_callback() -> Response:
    """Back from the identity provider: check ``state``, redeem the code with the PKCE verifier, verify the ID
    token, keep it in an HttpOnly cookie and return to the approval page ``state`` names (on this API only)."""
    provider = identity_provider()
    if provider is None or not provider.browser_sign_in:
        return _html(404, approval_page.message_page("Not found", "Sign-in is not used here."))
    params = dict(app.current_event.query_string_parameters or {})
    now = datetime.now(UTC)
    try:
        key = _signing_key(load_settings(ApprovalSettings))
        state = params.get("state", "")
        target = sign_in.return_target(key, state, now.timestamp())
        if "code" not in params:
            raise sign_in.SignInRefused("the sign-in did not complete; open the link from the email again")
        token = sign_in.exchange_code(provider, key, params["code"], state)
        claims = identity.verify_id_token(token, provider, _signing_keys(provider.jwks_url))
    except (sign_in.SignInRefused, identity.IdentityRejected) as refused:
        _audit().record("approval:sign-in", "approver sign-in refused", now, {"why": str(refused)})
        return _html(403, approval_page.message_page("Sign-in not accepted", str(refused)))
    _audit().record("approval:sign-in", "approver signed in", now, {"sub": claims["sub"]})
    headers: dict[str, str | list[str]] = {
        **approval_page.SECURITY_HEADERS,
        "Location": sign_in.api_url(provider, target),
        "Set-Cookie": sign_in.session_cookie(provider, token, int(claims["exp"] - now.timestamp())),
    }
    body = approval_page.message_page("Signed in", "Back to the rollback.")
    return Response(303, content_types.TEXT_HTML, body, headers=headers)


APPROVAL_ID = re.compile(r"^[0-9a-f]{32}$")
WORKFLOW_GONE = ("InvalidToken", "TaskTimedOut", "TaskDoesNotExist")


def _ended() -> Response:
    return _html(
        409, approval_page.message_page("Rollback ended", "This rollback already ended. Nothing was approved.")
    )


MAX_FORM_BYTES = 8 * 1024
MAX_COMMENT_CHARACTERS = 1000


def _malformed_id(approval_id: str) -> Response:
    """An id no request can have: refused before it is used as a key anywhere (DynamoDB keys are bounded)."""
    _audit().record("approval:malformed-id", "approval link refused", datetime.now(UTC), {"id": approval_id[:64]})
    return _html(404, approval_page.message_page("Link not valid", "This link does not lead to any rollback."))


@app.get("/approvals/<approval_id>")
def show(approval_id: str) -> Response:
    if not APPROVAL_ID.fullmatch(approval_id):
        return _malformed_id(approval_id)
    params = dict(app.current_event.query_string_parameters or {})
    try:
        _, key, page = _open(approval_id, params)
    except approvals.ApprovalRefused as refused:
        _audit().record(f"approval:{approval_id}", "approval link refused", datetime.now(UTC), {"why": str(refused)})
        return _html(403, approval_page.message_page("Link not valid", str(refused)))
    redirect = _sign_in_redirect(key, approval_id, params)
    if redirect is not None:
        return redirect
    _audit().record(page.record.rollback_id, "approval page viewed", datetime.now(UTC), {"approver": page.approver.id})
    if page.record.status == "ENDED":
        return _ended()
    if page.record.status != "PENDING":
        return _html(409, approval_page.message_page("Already decided", f"This rollback was {page.record.status}."))
    return _html(200, approval_page.review_page(page, key))


@app.post("/approvals/<approval_id>")
def decide(approval_id: str) -> Response:
    if not APPROVAL_ID.fullmatch(approval_id):
        return _malformed_id(approval_id)
    body = app.current_event.decoded_body or ""
    if len(body.encode()) > MAX_FORM_BYTES:
        return _html(413, approval_page.message_page("Too much", "The form is too large. Nothing was changed."))
    form = {k: v[0] for k, v in parse_qs(body).items()}
    decision = form.get("decision")
    if decision not in ("approve", "reject"):
        return _html(400, approval_page.message_page("Choose approve or reject", "Nothing was changed."))
    if len(form.get("comment", "")) > MAX_COMMENT_CHARACTERS:
        return _html(
            400,
            approval_page.message_page(
                "Comment too long", f"At most {MAX_COMMENT_CHARACTERS} characters. Nothing was changed."
            ),
        )
    try:
        settings, key, page = _open(approval_id, form)
        links.verify_csrf(key, page.claims, form.get("csrf", ""))
        _require_identity(page)
        message = approvals.decide(
            page=page,
            decision=decision,  # type: ignore[arg-type]
            comment=form.get("comment"),
            source_ip=app.current_event.request_context.identity.source_ip,
            user_agent=app.current_event.request_context.identity.user_agent,
            settings=settings,
            store=_store(),
            callbacks=client("stepfunctions"),
            audit=_audit(),
            now=datetime.now(UTC),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in WORKFLOW_GONE:
            raise
        # The execution ended (stopped, timed out) before this decision reached it: nothing is approved.
        _store().mark_ended(approval_id)
        _audit().record(
            f"approval:{approval_id}", "approval decision refused", datetime.now(UTC), {"why": "the rollback ended"}
        )
        return _ended()
    except identity.IdentityRejected as rejected:
        _audit().record(
            f"approval:{approval_id}", "approval identity refused", datetime.now(UTC), {"why": str(rejected)}
        )
        return _html(401, approval_page.message_page("Sign-in needed", str(rejected)))
    except (approvals.ApprovalRefused, links.InvalidLink) as refused:
        _audit().record(
            f"approval:{approval_id}", "approval decision refused", datetime.now(UTC), {"why": str(refused)}
        )
        return _html(403, approval_page.message_page("Not accepted", str(refused)))
    return _html(200, approval_page.message_page("Thank you", message))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def approval_page_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
