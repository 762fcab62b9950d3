"""The drill (`make drill`) is the product's rehearsal: it must keep working end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.drill import run
from local.synth import Synthesized


@pytest.mark.parametrize(("mode", "status"), [("auto", "SUCCEEDED"), ("reject", "REJECTED")])
def test_drill_rehearses_the_rollback_and_writes_the_report(
    synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str, status: str
) -> None:
    # When the drill runs from an alarm to the end
    exit_code = run("kubernetes_app", mode, tmp_path, time_scale=0.0, synthesized=synthesized)
    # Then it exits 0, printed the approval links and each state, and wrote both reports
    assert exit_code == 0
    printed = capsys.readouterr().out
    assert "/v1/approvals/" in printed and "Request approval" in printed
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == status
    assert {"scenario", "status", "execution_arn", "timeline", "rto_seconds", "approvals", "changes"} <= set(report)
    assert report["timeline"][0]["event"].startswith("Issue detected (alarm skillancer-api-5xx-rate)")
    if status == "SUCCEEDED":
        assert {c["after"] for c in report["changes"]} == {"v1.0.0-rc.5"}
        assert len(report["approvals"]) == 2
    else:
        assert report["changes"] == [] and report["rto_seconds"] is None
    assert (tmp_path / "report.md").read_text().startswith("> Drill of the `kubernetes_app` rollback")
