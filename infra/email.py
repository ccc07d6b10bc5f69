"""Pings by email: SES receives mail for the domain and hands each one to the ping function.

Only built with `-c emailDomain=mon.example.com`. The receipt rule publishes the whole mail
(base64, at most 150 KB) to an encrypted topic the ping function subscribes to, so no bucket is
needed. SES receives mail only in the regions that offer it, and a rule set works only once it
is the active one: see docs/email-pings.md.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.alerts import topic_key


class InboundMail(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, domain: str, ping: lambda_.IFunction
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        key = topic_key(self, "cronbeat inbound mail topic")
        # SES encrypts what it publishes to the topic with this key.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowSesToPublish",
                principals=[iam.ServicePrincipal("ses.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        self.topic = sns.Topic(
            self, "Topic", display_name="cronbeat inbound mail", master_key=key, enforce_ssl=True
        )
        self.topic.add_subscription(subscriptions.LambdaSubscription(ping))
        self.rule_set = ses.ReceiptRuleSet(
            self,
            "Rules",
            rules=[
                ses.ReceiptRuleOptions(
                    recipients=[domain],
                    scan_enabled=True,
                    actions=[
                        ses_actions.Sns(topic=self.topic, encoding=ses_actions.EmailEncoding.BASE64)
                    ],
                )
            ],
        )
        CfnOutput(
            stack,
            "EmailPingRuleSet",
            value=self.rule_set.receipt_rule_set_name,
            description="Activate it: aws ses set-active-receipt-rule-set --rule-set-name <this>",
        )
        CfnOutput(
            stack,
            "EmailPingAddress",
            value=f"<check uuid>@{domain}",
            description="Ping a check by mail (MX record: inbound-smtp.<region>.amazonaws.com)",
        )
