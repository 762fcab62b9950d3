"""Synthesize the way users deploy: the CDK CLI always sets a region (and, with credentials, an account), so
ARNs are literals rather than tokens; cdk-nag and cfn-lint must stay clean either way, and `npx aws-cdk@2 synth`
must run the app from a fresh clone after `make` (cdk.json's app command uses the project's venv)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from aws_cdk.assertions import Annotations, Match

from local.synth import PROJECT_ROOT, synthesize

CFN_LINT_IGNORED = {
    "W3005": "CDK adds DependsOn on roles that GetAtt already orders; harmless and not ours to change",
}


@pytest.mark.parametrize(
    "environment",
    [{"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "eu-west-1"}, {"CDK_DEFAULT_REGION": "us-east-1"}],
    ids=["account and region", "region only"],
)
def test_synth_with_the_clis_environment_has_no_cdk_nag_finding(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the environment the CDK CLI synthesizes with
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # When the app is synthesized
    synthesized = synthesize()
    # Then cdk-nag has nothing to say: the suppressions match the literal ARNs too
    annotations = Annotations.from_stack(synthesized.stack)
    assert [e.entry.data for e in annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))] == []
    assert [w.entry.data for w in annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))] == []


def test_cfn_lint_finds_no_error_or_unexplained_warning() -> None:
    synthesized = synthesize({}, outdir=Path(tempfile.mkdtemp(prefix="rollback-lint-")))
    template = synthesized.outdir / f"{synthesized.stack_name}.template.json"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", str(template)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    findings = json.loads(result.stdout or "[]")
    unexplained = [f"{f['Rule']['Id']}: {f['Message']}" for f in findings if f["Rule"]["Id"] not in CFN_LINT_IGNORED]
    assert unexplained == []


def test_the_cdk_cli_synthesizes_the_app_from_cdk_json() -> None:
    # Given the CDK CLI from the npm registry, a region, and the app command of cdk.json
    assert json.loads((PROJECT_ROOT / "cdk.json").read_text())["app"] == ".venv/bin/python app.py"
    out = tempfile.mkdtemp(prefix="rollback-cdk-cli-")
    environment = {
        **os.environ,
        "CDK_DEFAULT_REGION": "us-east-1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    # When `npx aws-cdk@2 synth` runs in the project (cdk.json's cluster is a placeholder: the local profile)
    result = subprocess.run(
        ["npx", "--yes", "aws-cdk@2", "synth", "--quiet", "--output", out, "-c", "rollback:profile=local-emulation"],
        cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    # Then it exits 0 with the stack's template, whose state machine is the assembled spine
    assert result.returncode == 0, result.stderr[-4000:]
    template = json.loads((Path(out) / "RollbackPipeline.template.json").read_text())
    machines = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    configured = json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]["rollback"]["types"]
    assert sorted(m["Properties"]["StateMachineName"] for m in machines) == sorted(
        f"RollbackPipeline-{name.replace('_', '-')}" for name in configured
    )
    # And the Kubernetes-facing roles have their access entries
    assert any(r["Type"] == "AWS::EKS::AccessEntry" for r in template["Resources"].values())
