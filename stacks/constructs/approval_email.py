"""Approval emails through SES v2: the sender's verified identity, referenced by name (domain or address), and the
permission to send from it.

The identity is not created here: verifying a domain means publishing its DKIM records in DNS, which the team that
owns the domain does once for every sender, and a stack that created it would delete it (breaking every other
sender) when the stack is deleted."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack, aws_iam, aws_lambda, aws_ses
from constructs import Construct

from functions.settings import ApprovalEmailSettings
from stacks.config import ApprovalEmailConfig


class ApprovalEmail(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: ApprovalEmailConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.identity = aws_ses.EmailIdentity.from_email_identity_name(self, "Identity", config.identity_name)
        self.configuration_set_arn = (
            Stack.of(self).format_arn(
                service="ses",
                resource="configuration-set",
                resource_name=config.configuration_set,
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )
            if config.configuration_set
            else None
        )

    def grant_send(self, function: aws_lambda.Function) -> None:
        """``function`` may send email (``ses:SendEmail``, nothing else) from the configured address of this identity
        only, and learns the sender from its environment."""
        resources = [self.identity.email_identity_arn]
        if self.configuration_set_arn:
            resources.append(self.configuration_set_arn)  # SES v2 also authorizes the configuration set
        function.add_to_role_policy(
            aws_iam.PolicyStatement(
                actions=["ses:SendEmail"],
                resources=resources,
                conditions={"StringEquals": {"ses:FromAddress": self.config.from_address}},
            )
        )
        settings = ApprovalEmailSettings(
            from_address=self.config.from_address, configuration_set=self.config.configuration_set
        )
        for variable, value in settings.as_environment().items():
            function.add_environment(variable, value)
