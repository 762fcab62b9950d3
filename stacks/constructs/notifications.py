"""SNS topics: approval requests (each approver's email subscription filters on its own address) and
notifications to the war room (failures, escalations, reports)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_kms, aws_sns, aws_sns_subscriptions
from constructs import Construct

from functions.settings import Approver


class Notifications(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, approvers: Sequence[Approver], war_room_emails: Sequence[str]
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = aws_kms.Key(
            self, "TopicsKey", description="Encrypts rollback notifications", enable_key_rotation=True
        )
        self.approvals = aws_sns.Topic(self, "ApprovalRequests", master_key=self.key, enforce_ssl=True)
        self.notifications = aws_sns.Topic(self, "RollbackNotifications", master_key=self.key, enforce_ssl=True)
        for approver in approvers:
            self.approvals.add_subscription(
                aws_sns_subscriptions.EmailSubscription(
                    approver.email,
                    filter_policy={
                        "recipient": aws_sns.SubscriptionFilter.string_filter(allowlist=[approver.email]),
                    },
                )
            )
        for email in war_room_emails:
            self.notifications.add_subscription(aws_sns_subscriptions.EmailSubscription(email))
