"""A scripted approver that uses the approval page the way a phone browser does: GET the link, read the
form, POST the decision with the form's hidden fields (signature and CSRF token)."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin

USER_AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons: set[str] = set()
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag in ("style", "title", "script"):
            self._skip += 1
        elif tag == "form":
            self.action = attributes.get("action", "")
        elif tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes.get("value", "")
        elif tag == "button" and attributes.get("name") == "decision":
            self.buttons.add(attributes.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._skip:
            self.text.append(data.strip())


@dataclass(frozen=True)
class PageResponse:
    status: int
    html: str
    headers: dict[str, str]

    @property
    def text(self) -> str:
        parser = _FormParser()
        parser.feed(self.html)
        return " ".join(parser.text)


def _request(url: str, data: bytes | None = None, id_token: str | None = None) -> PageResponse:
    headers = {"User-Agent": USER_AGENT}
    if data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if id_token is not None:
        headers["Cookie"] = f"approver_id_token={id_token}"  # what the sign-in leaves in the browser
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return PageResponse(response.status, response.read().decode(), dict(response.headers.items()))
    except urllib.error.HTTPError as error:
        return PageResponse(error.code, error.read().decode(), dict(error.headers.items()))


def view(link: str) -> PageResponse:
    return _request(link)


def decide(link: str, decision: str, comment: str = "", id_token: str | None = None) -> PageResponse:
    """GET the page, then POST the decision with its form fields, as a browser would (signed in: ``id_token``)."""
    page = _request(link, id_token=id_token)  # the sign-in cookie goes with every request, as in a browser
    parser = _FormParser()
    parser.feed(page.html)
    if page.status != 200 or parser.action is None:
        return page
    if decision not in parser.buttons:
        raise ValueError(f"the page offers no {decision!r} button")
    body = urlencode({**parser.fields, "decision": decision, "comment": comment}).encode()
    return _request(urljoin(link, parser.action), body, id_token)
