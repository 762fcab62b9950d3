"""The drill rehearses an infrastructure rollback: `python -m local.drill --scenario infrastructure`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.drill import run
from local.synth import Synthesized


def test_drill_rehearses_an_infrastructure_rollback(
    synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the drill plans and applies Terraform with the previous values and rolls the ECS service back
    exit_code = run("infrastructure", "auto", tmp_path, time_scale=0.0, synthesized=synthesized)
    # Then it exits 0 (the service on the previous revision, deployment completed, one saved plan applied)
    printed = capsys.readouterr().out
    assert exit_code == 0, printed
    assert "[ecs] after: skillancer-api:1 (COMPLETED, 2/2)" in printed
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "SUCCEEDED"
    assert [c["status"] for c in report["changes"]] == ["applied", "applied"]
    revert = report["changes"][1]["revert"]
    assert revert.startswith(
        "rollback revert drill-infrastructure; by hand: "
        "aws ecs update-service --cluster skillancer-production --service skillancer-api "
    )
    assert revert.endswith("task-definition/skillancer-api:2")
