"""What each drill scenario stages on the emulators, how it starts, who approves it, and how the drill checks the
world afterwards (not the report: the world itself).

* ``kubernetes_app``: skillancer-web and skillancer-api on a broken v1.0.0; the API's 5xx alarm goes off and intake
  starts the rollback; on-call and lead approve; both Deployments must end on v1.0.0-rc.5.
* ``database_pitr``: skillancer-prod (a real PostgreSQL behind moto's RDS) with two hours of orders, then bad
  writes after a migration corrupted data; the data-integrity alarm goes off and intake starts a point-in-time
  restore; the CTO approves (the data-corruption row); the secret must point at a restored copy, the source untouched.
* ``database_snapshot``: the same database with a nightly and a pre-deploy snapshot; an operator starts a snapshot
  restore by hand; on-call, lead and the CTO (the loss exceeds the RPO) approve.
* ``feature_flag``: the application is healthy, the new SkillPod feature is broken; an operator switches
  FEATURE_SKILLPOD_ENABLED and FEATURE_NEW_MATCHING off in Doppler (a fake of its API v3); on-call and lead approve;
  both must read false in Doppler afterwards.
* ``infrastructure``: the ECS module change broke the API; an operator starts a Terraform rollback with the
  previous values (the plan's summary on the approval page) and the ECS service's rollback to the revision before;
  on-call and lead approve; that saved plan must be applied and the service on the previous revision.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from local.databases import EmulatedDatabases, Write, steady_writes
from local.pipeline import DEPLOYMENTS, NAMESPACE, LocalPipeline
from local.postgres import PostgresFarm

RC5 = "v1.0.0-rc.5"
DATABASE = "skillancer-prod"
DATABASE_SECRET = "skillancer/production/database"

Say = Callable[[str], None]


@dataclass(frozen=True)
class Staged:
    """A started rollback: its execution, who approves it, and how to check the world once it ended."""

    execution_arn: str
    approvers: tuple[str, ...]
    check: Callable[[], bool]


def alarm_event(alarm_name: str, namespace: str, metric: str, reason: str) -> dict[str, Any]:
    """Create ``alarm_name`` in CloudWatch, push it into ALARM, and build the EventBridge event CloudWatch would
    emit for that transition (moto does not emit it)."""
    cloudwatch: Any = boto3.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=alarm_name, Namespace=namespace, MetricName=metric, Statistic="Average", Period=60,
        EvaluationPeriods=2, Threshold=5.0, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    cloudwatch.set_alarm_state(AlarmName=alarm_name, StateValue="ALARM", StateReason=reason)
    alarm = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"][0]
    now = datetime.now(UTC)
    return {
        "version": "0",
        "id": f"drill-{int(now.timestamp())}",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": alarm["AlarmArn"].split(":")[4],
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": alarm["AlarmArn"].split(":")[3],
        "resources": [alarm["AlarmArn"]],
        "detail": {
            "alarmName": alarm_name,
            "state": {"value": "ALARM", "reason": reason, "timestamp": now.isoformat(timespec="milliseconds")},
            "previousState": {"value": "OK", "reason": "Threshold not crossed", "timestamp": now.isoformat()},
            "configuration": {"metrics": [{"metricStat": {"metric": {"namespace": namespace, "name": metric}}}]},
        },
    }


def start_from_alarm(pipeline: LocalPipeline, event: dict[str, Any], say: Say) -> str | None:
    (intake,) = pipeline.fire_alarm(event)["outcomes"]
    say(
        f"  [alarm] {event['detail']['alarmName']} OK -> ALARM; decision matrix: {intake['scenario']} "
        f"({intake['severity']}, {intake['decision']}); intake: {intake['action']} {intake.get('execution_name') or ''}"
    )
    return str(intake["execution_arn"]) if intake["action"] == "started" else None


def kubernetes_app(pipeline: LocalPipeline, stack: ExitStack, say: Say) -> Staged | None:
    say(f"  [cluster] before: {pipeline.images()}")
    reason = "Threshold Crossed: 2 datapoints [31.5, 28.0] were greater than the threshold (5.0)."
    arn = start_from_alarm(pipeline, alarm_event("skillancer-api-5xx-rate", "Skillancer/API", "5xxRate", reason), say)

    def check() -> bool:
        say(f"  [cluster] after: {pipeline.images()}")
        return all(image.endswith(RC5) for image in pipeline.images().values())

    return Staged(arn, ("oncall-primary@skillancer.com", "eng-lead@skillancer.com"), check) if arn else None


def _database(pipeline: LocalPipeline, stack: ExitStack, say: Say, incident: datetime) -> EmulatedDatabases:
    """skillancer-prod with two hours of orders up to ``incident`` and corrupt writes since; the application
    itself is healthy (on v1.0.0-rc.5): the data is what broke."""
    for name in DEPLOYMENTS:
        pipeline.kube.apply_deployment(NAMESPACE, name, image=f"registry.example.com/{name}:{RC5}")
    pipeline.kube.settle()
    farm = stack.enter_context(PostgresFarm())
    databases = stack.enter_context(EmulatedDatabases(farm).serving())
    writes = steady_writes(incident)
    source = databases.create_source(
        boto3.client("rds"), DATABASE, writes, created_at=min(w.at for w in writes) - timedelta(hours=1)
    )
    databases.write(DATABASE, [Write("orders", incident + timedelta(seconds=s)) for s in (15, 45, 75)])
    boto3.client("secretsmanager").create_secret(
        Name=DATABASE_SECRET, SecretString=json.dumps({"DATABASE_URL": source.url})
    )
    say(
        f"  [database] {DATABASE}: PostgreSQL on 127.0.0.1:{source.server.port}, {len(source.writes)} rows written "
        f"up to {incident:%H:%M:%S}, 3 corrupt ones since; {DATABASE_SECRET} points at it"
    )
    return databases


def _database_check(databases: EmulatedDatabases, say: Say) -> Callable[[], bool]:
    def check() -> bool:
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=DATABASE_SECRET)["SecretString"]
        url = json.loads(secret)["DATABASE_URL"]
        restored = [p for name, p in databases.instances.items() if name != DATABASE and p.url == url]
        source = boto3.client("rds").describe_db_instances(DBInstanceIdentifier=DATABASE)["DBInstances"][0]
        say(
            f"  [database] DATABASE_URL now points at {restored[0].identifier if restored else 'the source'}; "
            f"{DATABASE} is {source['DBInstanceStatus']}, {len(databases.instances[DATABASE].writes)} rows, kept"
        )
        return bool(restored) and source["DBInstanceStatus"] == "available"

    return check


def database_pitr(pipeline: LocalPipeline, stack: ExitStack, say: Say) -> Staged | None:
    incident = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    databases = _database(pipeline, stack, say, incident)
    reason = "Threshold Crossed: 1 datapoint [412.0] was greater than the threshold (5.0)."
    event = alarm_event("skillancer-data-integrity-orders", "Skillancer/Data", "IntegrityViolations", reason)
    event["detail"]["state"]["timestamp"] = incident.isoformat(timespec="milliseconds")
    arn = start_from_alarm(pipeline, event, say)
    return Staged(arn, ("cto@skillancer.com",), _database_check(databases, say)) if arn else None


def database_snapshot(pipeline: LocalPipeline, stack: ExitStack, say: Say) -> Staged | None:
    incident = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    databases = _database(pipeline, stack, say, incident)
    rds: Any = boto3.client("rds")
    for name, minutes in (("skillancer-prod-nightly", 90), ("skillancer-prod-pre-deploy", 10)):
        databases.take_snapshot(rds, DATABASE, name, incident - timedelta(minutes=minutes))
        say(f"  [database] snapshot {name} taken {minutes} min before the incident")
    payload = {
        "service": "skillancer",
        "environment": "production",
        "target": {"source_instance": DATABASE},
        "reason": "the 1.0.0 migration rewrote order amounts; restore the pre-deploy snapshot",
        "requested_by": "sre-on-duty@skillancer.com",
        "scenario": "Data corruption detected",
        "severity": "P0",
        "detected_at": incident.isoformat().replace("+00:00", "Z"),
    }
    arn = pipeline.deployment.state_machine_arn("DatabaseSnapshot")
    execution = pipeline.sfn.start_execution(stateMachineArn=arn, name="drill-snapshot", input=json.dumps(payload))
    say(
        "  [operator] rollback start database_snapshot --instance skillancer-prod (newest snapshot before the incident)"
    )
    approvers = ("oncall-primary@skillancer.com", "eng-lead@skillancer.com", "cto@skillancer.com")
    return Staged(str(execution["executionArn"]), approvers, _database_check(databases, say))


def feature_flag(pipeline: LocalPipeline, stack: ExitStack, say: Say) -> Staged | None:
    """The application is healthy; the new SkillPod feature is what broke: an operator switches it and the new
    matching off in Doppler (skillancer/prd, the fake API), as runbook procedure 3 says."""
    for name in DEPLOYMENTS:
        pipeline.kube.apply_deployment(NAMESPACE, name, image=f"registry.example.com/{name}:{RC5}")
    pipeline.kube.settle()
    say(f"  [doppler] skillancer/prd before: {pipeline.doppler.values}")
    flags = [{"name": "FEATURE_SKILLPOD_ENABLED", "enabled": False}, {"name": "FEATURE_NEW_MATCHING", "enabled": False}]
    payload = {
        "service": "skillancer",
        "environment": "production",
        "target": {"flags": flags},
        "reason": "SkillPod sessions crash the matching service; switch the new features off",
        "requested_by": "sre-on-duty@skillancer.com",
        "scenario": "Major feature broken (>50% users)",
        "severity": "P1",
    }
    arn = pipeline.deployment.state_machine_arn("FeatureFlag")
    execution = pipeline.sfn.start_execution(stateMachineArn=arn, name="drill-flags", input=json.dumps(payload))
    say(
        "  [operator] rollback start feature_flag --service skillancer --environment production "
        "--flag FEATURE_SKILLPOD_ENABLED=false --flag FEATURE_NEW_MATCHING=false"
    )

    def check() -> bool:
        values = pipeline.doppler.values
        say(f"  [doppler] skillancer/prd after: {values}; revert with: rollback revert drill-flags")
        return values["FEATURE_SKILLPOD_ENABLED"] == values["FEATURE_NEW_MATCHING"] == "false"

    return Staged(str(execution["executionArn"]), ("oncall-primary@skillancer.com", "eng-lead@skillancer.com"), check)


def infrastructure(pipeline: LocalPipeline, stack: ExitStack, say: Say) -> Staged | None:
    """Runbook procedure 5: Terraform with previous-values.tfvars (-target=module.ecs), then the ECS service back
    on the task definition before the broken one. The Terraform builds are the stand-in's (local/aws/terraform.py)."""
    from local.aws.terraform import TERRAFORM, update

    for name in DEPLOYMENTS:
        pipeline.kube.apply_deployment(NAMESPACE, name, image=f"registry.example.com/{name}:{RC5}")
    pipeline.kube.settle()
    TERRAFORM.set_up("skillancer-terraform-plan", "skillancer-terraform-apply", "skillancer-terraform-plans")
    stack.callback(TERRAFORM.clear)
    TERRAFORM.plan_changes([update("module.ecs.aws_ecs_service.api")])
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="skillancer-production")
    for tag in (RC5, "v1.0.0"):
        ecs.register_task_definition(
            family="skillancer-api",
            containerDefinitions=[
                {"name": "api", "image": f"registry.example.com/skillancer-api:{tag}", "memory": 512}
            ],
        )
    ecs.create_service(
        cluster="skillancer-production", serviceName="skillancer-api", taskDefinition="skillancer-api:2", desiredCount=2
    )
    say("  [ecs] skillancer-production/skillancer-api before: skillancer-api:2 (v1.0.0)")
    payload = {
        "service": "skillancer",
        "environment": "production",
        "target": {"terraform": True, "ecs_cluster": "skillancer-production", "ecs_service": "skillancer-api"},
        "reason": "the ECS module change broke the API; back to the previous values and task definition",
        "requested_by": "sre-on-duty@skillancer.com",
        "scenario": "Infrastructure change failure",
        "severity": "P1",
    }
    arn = pipeline.deployment.state_machine_arn("Infrastructure")
    execution = pipeline.sfn.start_execution(
        stateMachineArn=arn, name="drill-infrastructure", input=json.dumps(payload)
    )
    say(
        "  [operator] rollback start infrastructure (terraform plan -var-file=previous-values.tfvars "
        "-target=module.ecs; ECS skillancer-production/skillancer-api to the previous revision)"
    )

    def check() -> bool:
        service = ecs.describe_services(cluster="skillancer-production", services=["skillancer-api"])["services"][0]
        (primary,) = [d for d in service["deployments"] if d["status"] == "PRIMARY"]
        applied = [plan.sha256[:12] for plan in TERRAFORM.applied]
        say(
            f"  [ecs] after: {service['taskDefinition'].rsplit('/', 1)[-1]} ({primary['rolloutState']}, "
            f"{primary['runningCount']}/{primary['desiredCount']}); terraform applied saved plan(s): {applied}; "
            "revert with: rollback revert drill-infrastructure"
        )
        return (
            service["taskDefinition"].endswith("skillancer-api:1")
            and primary["rolloutState"] == "COMPLETED"
            and len(applied) == 1
        )

    return Staged(str(execution["executionArn"]), ("oncall-primary@skillancer.com", "eng-lead@skillancer.com"), check)


def edge(pipeline: LocalPipeline, stack: ExitStack, say: Say) -> Staged | None:
    """Runbook procedure 4: CloudFront serves a broken config; an operator puts the distribution on its backup
    config and skillancer.com on the maintenance page (moto's CloudFront and Route 53; the page on 127.0.0.1)."""
    for name in DEPLOYMENTS:
        pipeline.kube.apply_deployment(NAMESPACE, name, image=f"registry.example.com/{name}:{RC5}")
    pipeline.kube.settle()
    site = pipeline.edge_site
    route53, cloudfront = boto3.client("route53"), boto3.client("cloudfront")

    def record() -> str:
        found = route53.list_resource_record_sets(HostedZoneId=site["hosted_zone_id"])["ResourceRecordSets"]
        a = next(r for r in found if r["Type"] == "A")
        alias = a.get("AliasTarget")
        return f"alias {alias['DNSName']}" if alias else ", ".join(v["Value"] for v in a["ResourceRecords"])

    def origin() -> str:
        config = cloudfront.get_distribution_config(Id=site["distribution_id"])["DistributionConfig"]
        return str(config["Origins"]["Items"][0]["DomainName"])

    say(f"  [edge] before: skillancer.com A -> {record()}; distribution {site['distribution_id']} -> {origin()}")
    payload = {
        "service": "skillancer",
        "environment": "production",
        "target": {"cloudfront": "backup_config", "dns_maintenance": True},
        "reason": "CloudFront serves a broken config for skillancer.com; backup config and maintenance page",
        "requested_by": "sre-on-duty@skillancer.com",
        "scenario": "Complete platform outage",
        "severity": "P0",
    }
    arn = pipeline.deployment.state_machine_arn("Edge")
    execution = pipeline.sfn.start_execution(stateMachineArn=arn, name="drill-edge", input=json.dumps(payload))
    say("  [operator] rollback start edge (cloudfront=backup_config, dns_maintenance)")

    def check() -> bool:
        now_record, now_origin = record(), origin()
        say(
            f"  [edge] after: skillancer.com A -> {now_record}; distribution -> {now_origin}; "
            "revert with: rollback revert drill-edge"
        )
        return now_record.startswith("alias maintenance.skillancer.com") and now_origin == "maintenance.skillancer.com"

    return Staged(str(execution["executionArn"]), ("oncall-primary@skillancer.com", "eng-lead@skillancer.com"), check)


SCENARIOS: dict[str, Callable[[LocalPipeline, ExitStack, Say], Staged | None]] = {
    "kubernetes_app": kubernetes_app,
    "database_pitr": database_pitr,
    "database_snapshot": database_snapshot,
    "feature_flag": feature_flag,
    "infrastructure": infrastructure,
    "edge": edge,
}
