"""DynamoDB tables: rollback locks (TTL), approval requests (customer-managed KMS, TTL) and the audit trail.

The audit trail, the approval requests and the incidents are evidence: they (and the approvals' key) are kept when
the stack is deleted. The locks are not: they only matter while a rollback runs, and expire anyway.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, aws_dynamodb, aws_iam, aws_kms
from constructs import Construct

READS = frozenset({"GetItem", "Query"})


def _table(
    scope: Construct,
    construct_id: str,
    partition_key: str,
    *,
    sort_key: str | None = None,
    ttl_attribute: str | None = None,
    key: aws_kms.IKey | None = None,
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
) -> aws_dynamodb.Table:
    return aws_dynamodb.Table(
        scope,
        construct_id,
        partition_key=aws_dynamodb.Attribute(name=partition_key, type=aws_dynamodb.AttributeType.STRING),
        sort_key=aws_dynamodb.Attribute(name=sort_key, type=aws_dynamodb.AttributeType.STRING) if sort_key else None,
        billing_mode=aws_dynamodb.BillingMode.PAY_PER_REQUEST,
        time_to_live_attribute=ttl_attribute,
        point_in_time_recovery_specification=aws_dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=aws_dynamodb.TableEncryption.CUSTOMER_MANAGED if key else aws_dynamodb.TableEncryption.AWS_MANAGED,
        encryption_key=key,
        removal_policy=removal_policy,
    )


class StateStore(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.approvals_key = aws_kms.Key(
            self,
            "ApprovalsKey",
            description="Encrypts approval requests (they hold task tokens)",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,  # the retained approvals table stays readable
        )
        self.locks = _table(self, "Locks", "lock_key", ttl_attribute="expires_at", removal_policy=RemovalPolicy.DESTROY)
        self.approvals = _table(self, "Approvals", "approval_id", ttl_attribute="expires_at", key=self.approvals_key)
        self.audit = _table(self, "Audit", "rollback_id", sort_key="event_key")
        self.incidents = _table(self, "Incidents", "incident_key", ttl_attribute="expires_at")

    def grant(self, table: aws_dynamodb.Table, grantee: aws_iam.IGrantable, *actions: str) -> None:
        """Exactly these item actions (``GetItem``, ``PutItem``...) on ``table``, and the key use they need: who
        only reads the approvals may only decrypt. The audit trail is append-only: grant it ``PutItem`` (the
        writes are conditional puts of new keys) and ``Query``, never updates or deletes."""
        table.grant(grantee, *(f"dynamodb:{action}" for action in actions))
        if table is self.approvals:
            if set(actions) <= READS:
                self.approvals_key.grant_decrypt(grantee)
            else:
                self.approvals_key.grant_encrypt_decrypt(grantee)
