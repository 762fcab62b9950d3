"""Signed approval links: forged, altered and expired links are refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from functions.logic.links import InvalidLink, LinkClaims, build_url, csrf_token, sign, verify, verify_csrf

KEY = b"k" * 32
CLAIMS = LinkClaims("req-1", "ann", 2_000_000_000, "nonce-1")


def test_link_carries_only_identifiers_and_signature() -> None:
    url = build_url("https://approve.example.com/v1/", KEY, CLAIMS)
    parsed = urlparse(url)
    assert parsed.path == "/v1/approvals/req-1"
    assert set(parse_qs(parsed.query)) == {"a", "e", "n", "s"}
    verify(KEY, CLAIMS, parse_qs(parsed.query)["s"][0], now=1_000_000_000)


@pytest.mark.parametrize(
    "tampered",
    [
        LinkClaims("req-2", "ann", 2_000_000_000, "nonce-1"),
        LinkClaims("req-1", "bob", 2_000_000_000, "nonce-1"),
        LinkClaims("req-1", "ann", 2_100_000_000, "nonce-1"),
        LinkClaims("req-1", "ann", 2_000_000_000, "nonce-2"),
    ],
)
def test_altering_any_claim_breaks_the_signature(tampered: LinkClaims) -> None:
    with pytest.raises(InvalidLink, match="not valid"):
        verify(KEY, tampered, sign(KEY, CLAIMS), now=1_000_000_000)


def test_other_key_is_refused() -> None:
    with pytest.raises(InvalidLink):
        verify(b"x" * 32, CLAIMS, sign(KEY, CLAIMS), now=1_000_000_000)


def test_expired_link_is_refused() -> None:
    with pytest.raises(InvalidLink, match="expired"):
        verify(KEY, CLAIMS, sign(KEY, CLAIMS), now=CLAIMS.expires)


def test_csrf_token_differs_from_link_signature_and_is_checked() -> None:
    assert csrf_token(KEY, CLAIMS) != sign(KEY, CLAIMS)
    verify_csrf(KEY, CLAIMS, csrf_token(KEY, CLAIMS))
    with pytest.raises(InvalidLink):
        verify_csrf(KEY, CLAIMS, sign(KEY, CLAIMS))
