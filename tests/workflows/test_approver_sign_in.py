"""With sign-in on, the approver signs in from the page (authorization code + PKCE at the identity provider, here
a local OIDC provider standing in for Cognito's managed login), comes back with an HttpOnly ID-token cookie, and
a decision needs that token, of the link's own approver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from local import approver
from local.approver import USER_AGENT, PageResponse
from local.pipeline import LocalPipeline
from local.synth import Synthesized
from tests.approvals.support import Rollback, assert_refused, form_fields, header, query, start_rollback

ON_CALL, LEAD = "oncall-primary@skillancer.com", "eng-lead@skillancer.com"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def fetch(url: str, cookie: str | None = None, form: dict[str, str] | None = None) -> PageResponse:
    """One request as a browser sends it, redirects not followed (each hop is checked)."""
    headers = {"User-Agent": USER_AGENT}
    if cookie is not None:
        headers["Cookie"] = cookie
    data = urlencode(form).encode() if form is not None else None
    if data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with _OPENER.open(request, timeout=30) as response:
            return PageResponse(response.status, response.read().decode(), dict(response.headers.items()))
    except urllib.error.HTTPError as error:
        return PageResponse(error.code, error.read().decode(), dict(error.headers.items()))


def location(page: PageResponse) -> str:
    assert page.status in (302, 303), (page.status, page.text)
    return str(header(page, "Location"))


def without_query(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(query=""))


@dataclass
class SignIn:
    """One approver's sign-in started from their link: the provider's authorize URL the page redirected to."""

    authorize: str

    @property
    def state(self) -> str:
        return query(self.authorize)["state"]


@pytest.fixture
def signed_in_pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    with LocalPipeline(synthesized, approver_sign_in=True) as running:
        yield running


@pytest.fixture
def rollback(signed_in_pipeline: LocalPipeline) -> Rollback:
    return start_rollback(signed_in_pipeline, name="sign-in")


def start_sign_in(link: str) -> SignIn:
    return SignIn(location(fetch(link)))


def log_in(sign_in: SignIn, username: str) -> str:
    """At the provider: ``username`` signs in; returns the callback URL it sends the browser back to."""
    return location(fetch(f"{sign_in.authorize}&{urlencode({'login_as': username})}"))


def test_the_approver_signs_in_from_the_page_and_back_with_a_cookie(rollback: Rollback) -> None:
    pipeline = rollback.pipeline
    link = rollback.link(ON_CALL)
    other_signatures = [query(rollback.link(email))["s"] for email in (LEAD, "oncall-secondary@skillancer.com")]
    # Given the on-call's link, When it is opened without signing in, Then it sends the browser to sign in
    first = fetch(link)
    assert first.status == 303 and "<form" not in first.html
    authorize = location(first)
    assert without_query(authorize) == pipeline.oidc.authorize_url
    asked = query(authorize)
    assert asked["response_type"] == "code" and asked["client_id"] == pipeline.OIDC_CLIENT_ID
    assert asked["redirect_uri"] == f"{pipeline.gateway.base_url}auth/callback"
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["scope"] == "openid email"
    # And the redirect carries neither the task token nor any other approver's signature
    assert rollback.task_token() not in authorize
    assert not any(signature in authorize for signature in other_signatures)
    # When the on-call signs in at the provider, Then it returns to the API's callback with a code and the state
    callback = log_in(SignIn(authorize), "oncall-primary")
    assert without_query(callback) == asked["redirect_uri"] and query(callback)["state"] == asked["state"]
    # When the callback runs, Then it sets the ID-token cookie and returns to exactly the page of the link
    back = fetch(callback)
    assert back.status == 303 and location(back) == link
    cookie = SimpleCookie(header(back, "Set-Cookie"))["approver_id_token"]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/v1/approvals" and 0 < int(cookie["max-age"]) <= 3600
    session = f"approver_id_token={cookie.value}"
    # And the page shows, with the form to decide
    page = fetch(link, cookie=session)
    assert page.status == 200 and "Approve" in page.text
    form = form_fields(page) | {"decision": "approve"}
    # When the form is posted without the cookie, Then nothing is decided
    before = rollback.item()
    assert_refused(fetch(without_query(link), form=form), "sign in", status=401)
    rollback.assert_unchanged(before)
    # When it is posted signed in, Then the decision counts
    decided = fetch(without_query(link), cookie=session, form=form)
    assert decided.status == 200 and "Still waiting for: lead" in decided.text
    # And the provider never saw the task token
    assert not any(rollback.task_token() in r["query"] for r in pipeline.oidc.requests)
    # When the lead decides with the on-call's sign-in, Then it is refused; with their own, the rollback runs
    lead_link = rollback.link(LEAD)
    wrong = approver.decide(lead_link, "approve", id_token=cookie.value)
    assert wrong.status == 401 and "somebody else" in wrong.text
    second = approver.decide(lead_link, "approve", id_token=pipeline.id_token("eng-lead"))
    assert second.status == 200 and "Approved" in second.text
    assert pipeline.wait(rollback.execution)["status"] == "SUCCEEDED"


def test_a_sign_in_that_was_altered_replayed_or_swapped_is_refused(rollback: Rollback) -> None:
    pipeline = rollback.pipeline
    link = rollback.link(ON_CALL)
    sign_in = start_sign_in(link)
    callback = log_in(sign_in, "oncall-primary")
    code = query(callback)["code"]
    callback_url = without_query(callback)

    def back_with(**params: str) -> PageResponse:
        return fetch(f"{callback_url}?{urlencode(params)}")

    # Given a state altered to return elsewhere (its signature kept), Then the callback refuses it
    payload, signature = sign_in.state.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    altered = base64.urlsafe_b64encode(json.dumps(claims | {"q": "a=cto"}).encode()).rstrip(b"=").decode()
    page = back_with(code=code, state=f"{altered}.{signature}")
    assert_refused(page, "not started here")
    assert header(page, "Set-Cookie") is None
    # Given a state signed with the deployment's key but naming a page outside the API, Then it is refused
    key = rollback.signing_key()
    for target in ("//evil.example/approvals", "https://evil.example/x", "/auth/callback"):
        claims = {"p": target, "q": "", "x": int(time.time()) + 60, "n": "0"}
        outside = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        mac = hmac.new(key, f"sign-in-state|{outside}".encode(), hashlib.sha256).digest()
        forged = f"{outside}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
        assert_refused(back_with(code=code, state=forged), "only return to an approval page")
    # Given the code of this sign-in with the state of another (so another PKCE verifier), Then it is refused
    other = start_sign_in(link)
    assert other.state != sign_in.state
    assert_refused(back_with(code=code, state=other.state), "not accepted (400)")
    # (the provider spent the code on that attempt, as a code is used once)
    fresh = log_in(sign_in, "oncall-primary")
    assert fetch(fresh).status == 303
    # When the same code comes back a second time, Then it is refused
    replay = fetch(fresh)
    assert_refused(replay, "not accepted (400)")
    assert header(replay, "Set-Cookie") is None
    # And the provider refuses a wrong code_verifier itself
    code = query(log_in(start_sign_in(link), "oncall-primary"))["code"]
    token_request = urllib.request.Request(
        pipeline.oidc.token_url, method="POST",
        data=urlencode({"grant_type": "authorization_code", "client_id": pipeline.OIDC_CLIENT_ID, "code": code,
                        "redirect_uri": callback_url, "code_verifier": "x" * 43}).encode(),
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(token_request, timeout=10)
    assert refused.value.code == 400
    # And a callback without a code, or with nothing, is refused and nothing was decided
    before = rollback.item()
    assert_refused(back_with(state=sign_in.state), "did not complete")
    assert_refused(back_with(), "not started here")
    rollback.assert_unchanged(before)
    assert dict(parse_qsl(urlsplit(link).query))["a"] == "oncall-primary"
