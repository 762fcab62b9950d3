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
    if status == "SUCCEEDED":  # each verification poll with its checks, the status page, the metric, the record
        assert "API error rate 0.02% (< 0.1%)" in printed and "-> healthy" in printed
        assert "     monitoring: Rolled back and verified in " in printed
        assert "[CloudWatch] rollback-pipeline RTOSeconds = " in printed
        assert "logs.json, post-mortem.md, report.json, timeline.md" in printed
        # and the preserved logs, the error rate's peak, the incident closed out in its table
        assert "  [logs] " in printed and " kept in s3://" in printed and "/logs.json" in printed
        assert "  [impact] error rate peak: 31.5% at " in printed
        assert "kept as a closed incident; the table holds rollback_outcome SUCCEEDED" in printed
        assert "  [incident] kept closed as skillancer#production#" in printed
    else:  # rejected: the incident's logs are kept all the same, and the incident says how it ended
        assert "  [logs] " in printed and "the table holds rollback_outcome REJECTED" in printed
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


@pytest.mark.parametrize(("scenario", "data_loss"), [("database_pitr", 60), ("database_snapshot", 600)])
def test_drill_rehearses_a_database_restore_and_reports_the_data_loss(
    synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str], scenario: str, data_loss: int
) -> None:
    # When the drill restores the corrupted database (from its alarm, or started by an operator)
    exit_code = run(scenario, "auto", tmp_path, time_scale=0.0, synthesized=synthesized)
    # Then it exits 0 (the secret points at a restored copy, the source is kept) and reports RTO and measured RPO
    assert exit_code == 0, capsys.readouterr().out
    printed = capsys.readouterr().out
    assert "Data-loss window" in printed and "DATABASE_URL now points at skillancer-prod-rb-" in printed
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "SUCCEEDED" and report["rto_seconds"] is not None
    assert report["rpo_seconds"] == pytest.approx(data_loss, abs=1)
    restore, switch, restart = report["changes"]
    assert restart["target"] == "Deployment production/skillancer-api" and restart["status"] == "applied"
    assert f"data-loss window {data_loss // 60} min" in restore["detail"] and "untouched" in restore["detail"]
    assert switch["data_loss_seconds"] == pytest.approx(data_loss, abs=1)
    assert "Data affected: Yes" in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize(
    ("scenario", "flags"), [("feature_flag", ["FEATURE_SKILLPOD_ENABLED", "FEATURE_NEW_MATCHING"])]
)
def test_drill_rehearses_a_feature_flag_rollback_and_reports_how_to_revert_it(
    synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str], scenario: str, flags: list[str]
) -> None:
    # When the drill switches the broken feature's flags off in (the fake of) Doppler, started by an operator
    exit_code = run(scenario, "auto", tmp_path, time_scale=0.0, synthesized=synthesized)
    # Then it exits 0 (both flags read false in Doppler afterwards) and the report says how to revert each
    printed = capsys.readouterr().out
    assert exit_code == 0, printed
    assert "'FEATURE_SKILLPOD_ENABLED': 'false'" in printed
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "SUCCEEDED" and report["rto_seconds"] is not None
    assert [c["target"] for c in report["changes"]] == [f"flag {flag}" for flag in flags]
    assert {(c["before"], c["after"], c["status"]) for c in report["changes"]} == {("true", "false", "applied")}
    assert all(c["revert"].startswith("rollback revert drill-flags ") for c in report["changes"])


@pytest.mark.parametrize("scenario", ["edge"])
def test_drill_rehearses_an_edge_rollback_onto_the_maintenance_page(
    synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str], scenario: str
) -> None:
    # When the drill puts the distribution on its backup config and skillancer.com on the maintenance alias
    exit_code = run(scenario, "auto", tmp_path, time_scale=0.0, synthesized=synthesized)
    # Then it exits 0 (the world checked: alias and origin) and the report gives each change's revert: the command,
    # or the AWS CLI by hand
    printed = capsys.readouterr().out
    assert exit_code == 0, printed
    assert "skillancer.com A -> alias maintenance.skillancer.com" in printed
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "SUCCEEDED"
    assert [(c["kind"], c["status"]) for c in report["changes"]] == [
        ("edge.cloudfront", "applied"),
        ("edge.dns_maintenance", "applied"),
    ]
    assert all(c["revert"].startswith("rollback revert drill-edge; by hand: aws ") for c in report["changes"])
    assert "revert with: rollback revert drill-edge" in printed
