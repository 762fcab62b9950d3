"""Label and field selectors as the API server parses them (``labels.Parse``, ``fields.ParseSelector``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Requirement = Callable[[Mapping[str, str]], bool]

_TOKEN = re.compile(r"\s*(!=|==|=|!|\(|\)|,|[A-Za-z0-9_./-]+)")


class SelectorError(ValueError):
    """A selector that does not parse; the server answers 400."""


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            raise SelectorError(f"unable to parse requirement: invalid character at {text[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


@dataclass(frozen=True)
class _Requirement:
    key: str
    operator: str  # exists, !, =, !=, in, notin
    values: frozenset[str] = frozenset()

    def __call__(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and value in self.values
        return not present or value not in self.values  # != and notin


def parse_label_selector(text: str | None) -> Requirement:
    """``a=b,c!=d,e in (f,g),h notin (i),j,!k`` -> a predicate on a labels map (empty selects everything)."""
    tokens = _tokens(text or "")
    requirements: list[_Requirement] = []
    i = 0

    def take() -> str:
        nonlocal i
        if i >= len(tokens):
            raise SelectorError(f"unable to parse requirement: unexpected end of {text!r}")
        token = tokens[i]
        i += 1
        return token

    while i < len(tokens):
        token = take()
        if token == "!":
            requirements.append(_Requirement(take(), "!"))
        else:
            key = token
            operator = tokens[i] if i < len(tokens) else ","
            if operator == ",":
                requirements.append(_Requirement(key, "exists"))
            elif operator in ("=", "==", "!="):
                i += 1
                value = tokens[i] if i < len(tokens) and tokens[i] != "," else ""
                if value:
                    i += 1
                requirements.append(_Requirement(key, "!=" if operator == "!=" else "=", frozenset({value})))
            elif operator in ("in", "notin"):
                i += 1
                if take() != "(":
                    raise SelectorError(f"unable to parse requirement: expected '(' after {operator} in {text!r}")
                values: set[str] = set()
                while (token := take()) != ")":
                    if token != ",":
                        values.add(token)
                requirements.append(_Requirement(key, operator, frozenset(values)))
            else:
                raise SelectorError(f"unable to parse requirement: unexpected {operator!r} in {text!r}")
        if i < len(tokens):
            if tokens[i] != ",":
                raise SelectorError(f"unable to parse requirement: expected ',' in {text!r}")
            i += 1
    return lambda labels: all(requirement(labels) for requirement in requirements)


def match_label_selector(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector object (matchLabels + matchExpressions); an empty one matches everything."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], set(expression.get("values") or [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def parse_field_selector(text: str | None, supported: frozenset[str]) -> Callable[[Mapping[str, Any]], bool]:
    """``metadata.name=x,metadata.namespace!=y``; only ``supported`` field paths (others: 400, like the server)."""
    checks: list[tuple[str, bool, str]] = []  # path, equal, value
    for part in filter(None, (text or "").split(",")):
        match = re.fullmatch(r"\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*", part)
        if not match:
            raise SelectorError(f"invalid selector: {part!r}")
        path, operator, value = match.groups()
        if path not in supported:
            raise SelectorError(f"field label not supported: {path}")
        checks.append((path, operator != "!=", value))

    def get(obj: Mapping[str, Any], path: str) -> str:
        current: Any = obj
        for key in path.split("."):
            current = current.get(key) if isinstance(current, Mapping) else None
        return "" if current is None else str(current)

    return lambda obj: all((get(obj, path) == value) == equal for path, equal, value in checks)
