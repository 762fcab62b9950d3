"""The SNS topic of broadcasts: the war room (failures, escalations to the room, reports) and support.

Email to one person (an approver's link, an escalation to the next tier) is not sent here but through SES
(:mod:`stacks.constructs.approval_email`): an SNS email subscription appends a one-click unsubscribe link, which
mail scanners follow, silently unsubscribing the approver."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_kms, aws_sns, aws_sns_subscriptions
from constructs import Construct


class Notifications(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, war_room_emails: Sequence[str]) -> None:
        super().__init__(scope, construct_id)
        self.key = aws_kms.Key(
            self, "TopicsKey", description="Encrypts rollback notifications", enable_key_rotation=True
        )
        self.notifications = aws_sns.Topic(self, "RollbackNotifications", master_key=self.key, enforce_ssl=True)
        for email in war_room_emails:
            self.notifications.add_subscription(aws_sns_subscriptions.EmailSubscription(email))
