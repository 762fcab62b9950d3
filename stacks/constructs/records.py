"""Where each rollback's record is kept (report, post-mortem draft, timeline): versioned, encrypted, TLS only, no
public access, kept when the stack is deleted; its access is logged to a second bucket."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, aws_iam, aws_lambda, aws_s3
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

RECORDS_PREFIX = "records/"


class RecordsBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = aws_s3.Bucket(
            self,
            "AccessLogs",
            encryption=aws_s3.BucketEncryption.S3_MANAGED,
            block_public_access=aws_s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=aws_s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,  # logs delivered under a bucket policy
            removal_policy=RemovalPolicy.RETAIN,
        )
        NagSuppressions.add_resource_suppressions(
            self.access_logs,
            [NagPackSuppression(id="AwsSolutions-S1", reason="This bucket receives the records bucket's access logs.")],
        )
        self.bucket = aws_s3.Bucket(
            self,
            "Bucket",
            versioned=True,
            encryption=aws_s3.BucketEncryption.S3_MANAGED,
            block_public_access=aws_s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=aws_s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="records-bucket/",
            removal_policy=RemovalPolicy.RETAIN,
        )

    def grant_write_records(self, function: aws_lambda.Function) -> None:
        """Add records (new objects, new versions) under ``records/``: no read, no delete."""
        function.add_to_role_policy(
            aws_iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[self.bucket.arn_for_objects(f"{RECORDS_PREFIX}*")]
            )
        )
        NagSuppressions.add_resource_suppressions(
            function,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    reason="Each rollback's record is a new object under records/<service>/<environment>/<id>/.",
                    applies_to=[{"regex": f"/^Resource::<RecordsBucket[0-9A-F]+\\.Arn>\\/{RECORDS_PREFIX}\\*$/g"}],
                )
            ],
            apply_to_children=True,
        )
