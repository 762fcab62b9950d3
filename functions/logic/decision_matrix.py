"""The runbook's decision matrix as data: scenario -> severity -> rollback / consider / fix forward -> who
approves -> which workflow(s) with which input. Loaded from ``functions/decision_matrix.json``, validated at
synth (the stack loads it) and again when intake starts.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from functions.models.rollback import Severity

MATRIX_FILE = Path(__file__).resolve().parents[1] / "decision_matrix.json"
ROLLBACK_TYPES = (
    "kubernetes_app", "database_schema", "database_pitr", "database_snapshot", "feature_flag", "edge",
    "infrastructure",
)  # fmt: skip


class MatrixError(ValueError):
    """The matrix file is invalid; the message names the row and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricMatch(_Strict):
    namespace: str
    metric: str


class AlarmMatch(_Strict):
    """An alarm belongs to a row by name, name prefix, tags (all must match) or namespace/metric."""

    names: list[str] = Field(default_factory=list)
    name_prefixes: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    metrics: list[MetricMatch] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not (self.names or self.name_prefixes or self.tags or self.metrics):
            raise ValueError("give at least one of names, name_prefixes, tags, metrics")
        return self

    def matches(self, name: str, tags: dict[str, str], metrics: list[tuple[str, str]]) -> bool:
        if name in self.names or any(name.startswith(prefix) for prefix in self.name_prefixes):
            return True
        if self.tags and all(tags.get(k) == v for k, v in self.tags.items()):
            return True
        return any((m.namespace, m.metric) in metrics for m in self.metrics)


class WorkflowTarget(_Strict):
    workflow: Literal[
        "kubernetes_app", "database_schema", "database_pitr", "database_snapshot", "feature_flag", "edge",
        "infrastructure",
    ]  # fmt: skip
    input: dict[str, Any] = Field(description="Input template; service and environment identify the incident.")

    @model_validator(mode="after")
    def _identifies_the_service(self) -> Self:
        missing = [key for key in ("service", "environment") if not isinstance(self.input.get(key), str)]
        if missing:
            raise ValueError(f"input: needs {' and '.join(missing)}")
        return self


class MatrixRow(_Strict):
    scenario: str = Field(min_length=1)
    severity: Severity
    decision: Literal["rollback", "consider", "fix_forward"]
    required_roles: list[str] = Field(min_length=1)
    alarms: AlarmMatch
    workflows: list[WorkflowTarget]

    @model_validator(mode="after")
    def _workflows_match_the_decision(self) -> Self:
        if self.decision == "fix_forward" and self.workflows:
            raise ValueError("workflows: a fix-forward row starts no workflow")
        if self.decision != "fix_forward" and not self.workflows:
            raise ValueError(f"workflows: a {self.decision!r} row needs at least one workflow")
        return self


class DecisionMatrix(_Strict):
    incident_window_seconds: int = Field(default=3600, gt=0)
    rows: list[MatrixRow] = Field(min_length=1)

    def classify(self, name: str, tags: dict[str, str], metrics: list[tuple[str, str]]) -> MatrixRow | None:
        """The first row (the runbook orders them by severity) whose alarm match fits."""
        return next((row for row in self.rows if row.alarms.matches(name, tags, metrics)), None)


def parse_matrix(data: Any) -> DecisionMatrix:
    try:
        return DecisionMatrix.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            location = error["loc"]
            where = ".".join(str(p) for p in location)
            if len(location) >= 2 and location[0] == "rows" and isinstance(location[1], int):
                scenario = (data.get("rows") or [{}])[location[1]].get("scenario", "?")
                where = f"rows[{location[1]}] ({scenario!r}).{'.'.join(str(p) for p in location[2:])}"
            problems.append(f"{where}: {error['msg']}")
        raise MatrixError("invalid decision matrix: " + "; ".join(problems)) from None


@cache
def load_matrix(path: Path = MATRIX_FILE) -> DecisionMatrix:
    return parse_matrix(json.loads(path.read_text()))
