"""Which CloudWatch alarm events reach intake: the EventBridge pattern of the ``AlarmStateChange`` rule, built from
the decision matrix so that only alarms the matrix can classify are delivered.

An alarm belongs to a matrix row by name, name prefix, metric or tags (:class:`functions.logic.decision_matrix.
AlarmMatch`). The "CloudWatch Alarm State Change" event carries the alarm's name and its metrics
(``detail.configuration.metrics[].metricStat.metric.namespace`` / ``name``) but not its tags, so:

- names and name prefixes match ``detail.alarmName`` exactly or by ``prefix``;
- each metric matches its namespace and name in the alarm's configuration;
- alarms that only their tags classify are delivered if their name starts with one of the configured
  ``intake_alarm_prefixes`` (``cdk.json``): a matrix with tag rows and none configured fails synth.

The pipeline's own alarms (``PIPELINE_ALARM_PREFIX``) must never start a rollback: no name or prefix may cover them
(synth fails otherwise) and the metric branches exclude them by name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from functions.logic.decision_matrix import DecisionMatrix

PIPELINE_ALARM_PREFIX = "rollback-pipeline/"
# EventBridge's default quota on the size of an event pattern (adjustable to 4,096).
PATTERN_MAX_CHARACTERS = 2048
SOURCE = "aws.cloudwatch"
DETAIL_TYPE = "CloudWatch Alarm State Change"


class IntakeFilterError(ValueError):
    """The decision matrix and the configured prefixes cannot be turned into a safe intake pattern."""


def intake_alarm_detail(matrix: DecisionMatrix, configured_prefixes: Sequence[str] = ()) -> dict[str, Any]:
    """The ``detail`` part of the intake rule's pattern: alarms entering ALARM that the matrix may classify."""
    names = sorted({name for row in matrix.rows for name in row.alarms.names})
    prefixes = sorted({prefix for row in matrix.rows for prefix in row.alarms.name_prefixes} | set(configured_prefixes))
    metrics = sorted({(m.namespace, m.metric) for row in matrix.rows for m in row.alarms.metrics})
    tagged = [row.scenario for row in matrix.rows if row.alarms.tags]
    if tagged and not configured_prefixes:
        raise IntakeFilterError(
            f"decision matrix rows {tagged} match alarms by tags, which the alarm event does not carry: list the "
            "name prefixes of those alarms in rollback.intake_alarm_prefixes"
        )
    covering = [text for text in [*names, *prefixes] if PIPELINE_ALARM_PREFIX.startswith(text)]
    covered = [text for text in [*names, *prefixes] if text.startswith(PIPELINE_ALARM_PREFIX)]
    if covering or covered:
        raise IntakeFilterError(
            f"alarm names or prefixes {sorted({*covering, *covered})} overlap the pipeline's own alarms "
            f"({PIPELINE_ALARM_PREFIX!r}), which must never start a rollback"
        )
    branches: list[dict[str, Any]] = []
    if names or prefixes:
        branches.append({"alarmName": [*names, *({"prefix": prefix} for prefix in prefixes)]})
    not_ours = [{"anything-but": {"prefix": PIPELINE_ALARM_PREFIX}}]
    for namespace, metric in metrics:
        branches.append(
            {
                "alarmName": not_ours,
                "configuration": {"metrics": {"metricStat": {"metric": {"namespace": [namespace], "name": [metric]}}}},
            }
        )
    if not branches:
        raise IntakeFilterError("the decision matrix names no alarm: intake would receive nothing")
    detail: dict[str, Any] = {"state": {"value": ["ALARM"]}}
    if len(branches) == 1:
        detail.update(branches[0])
    else:
        detail["$or"] = branches
    size = len(json.dumps(intake_event_pattern(detail), separators=(",", ":")))
    if size > PATTERN_MAX_CHARACTERS:
        raise IntakeFilterError(
            f"the intake event pattern has {size} characters, over EventBridge's {PATTERN_MAX_CHARACTERS}: use "
            "fewer, shorter alarm name prefixes in the decision matrix"
        )
    return detail


def intake_event_pattern(detail: dict[str, Any]) -> dict[str, Any]:
    """The whole pattern as EventBridge stores it (the rule is given ``source``, ``detail-type`` and ``detail``)."""
    return {"source": [SOURCE], "detail-type": [DETAIL_TYPE], "detail": detail}
