"""The HTTP API: ping URLs for jobs, the management API and dashboard for people."""

from __future__ import annotations

import jsii
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from constructs import Construct

from infra.function import CronbeatFunction, FunctionDefaults, log_group
from infra.nag import acknowledge
from infra.storage import Storage

ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(
    '{"requestId":"$context.requestId","time":"$context.requestTimeEpoch",'
    '"method":"$context.httpMethod","route":"$context.routeKey","status":"$context.status",'
    '"ip":"$context.identity.sourceIp","latencyMs":"$context.responseLatency",'
    '"error":"$context.integrationErrorMessage"}'
)
"""One short JSON line per request, without the path: a ping URL is its check's secret."""


@jsii.implements(apigwv2.IAccessLogSettings)
class AccessLogs:
    """Access logging for the stage (an interface in CDK, not a plain struct)."""

    def __init__(self, destination: apigwv2.IAccessLogDestination) -> None:
        self._destination = destination

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat | None:
        return ACCESS_LOG_FORMAT


class PingApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        defaults: FunctionDefaults,
    ) -> None:
        super().__init__(scope, construct_id)
        config = defaults.config
        self.http_api = apigwv2.HttpApi(
            self,
            "Http",
            description="cronbeat: ping URLs and the management API",
            create_default_stage=False,
        )
        self.access_logs = log_group(self, "AccessLogs", config)
        self.stage = apigwv2.HttpStage(
            self,
            "Stage",
            http_api=self.http_api,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.throttle_rate_per_s, burst_limit=config.throttle_burst
            ),
            access_log_settings=AccessLogs(apigwv2.LogGroupLogDestination(self.access_logs)),
        )
        url = self.stage.url
        assert url is not None, "the $default stage always has a URL"
        self.url = url
        """The API's base URL, with a trailing slash."""

        defaults = defaults.with_environment(CRONBEAT_BASE_URL=self.url)
        self.ping = CronbeatFunction(
            self,
            "Ping",
            defaults=defaults,
            handler="cronbeat.handlers.ping.handler",
            description="Records pings: /ping/<uuid>[/start|/fail|/log|/<exit code>]",
            timeout=Duration.seconds(10),
        )
        # Checks: read one, create one (`?create=1`), and update it, alone on the fast path or in
        # the general path's transaction. Events: read the project's ping key, and put history
        # items and flips (alone or in that transaction). A transaction needs no action of its
        # own: IAM authorises each of its items as the Put or Update it is.
        storage.grant_checks(self.ping.role, "GetItem", "PutItem", "UpdateItem")
        storage.grant_events(self.ping.role, "GetItem", "PutItem")
        storage.grant_slug_lookup(self.ping.role)
        # `?create=1` on a slug ping gives the new check every channel there is.
        storage.grant_channel_listing(self.ping.role)

        self.management = CronbeatFunction(
            self,
            "Management",
            defaults=defaults,
            handler="cronbeat.handlers.api.handler",
            description="Management API (Healthchecks.io v3) and dashboard",
            timeout=Duration.seconds(15),
            # Lambda's CPU grows with memory: pydantic and the routes load faster on a cold start,
            # and people, not jobs, call this function.
            memory_mb=512,
        )
        # Checks: list them (Scan), read, create, update (alone, or with a pause or resume
        # record in one transaction) and delete one. Events: read API keys, the ping key and
        # ping bodies; query history and channels; put channels, the ping key and those
        # records; delete channels.
        storage.grant_checks(
            self.management.role, "GetItem", "Scan", "PutItem", "UpdateItem", "DeleteItem"
        )
        storage.grant_events(self.management.role, "GetItem", "Query", "PutItem", "DeleteItem")
        # Channels: read one by id (BatchGetItem), list a channel's deliveries (the deliveries
        # index), and open a test alert's delivery record (UpdateItem).
        storage.grant_events(self.management.role, "BatchGetItem", "UpdateItem")
        storage.grant_delivery_listing(self.management.role)
        # Public badges: a check's badge finds it through the badge index.
        storage.grant_badge_lookup(self.management.role)

        pings = integrations.HttpLambdaIntegration("Pings", self.ping.function)
        management = integrations.HttpLambdaIntegration("Management", self.management.function)
        self.http_api.add_routes(
            path="/ping/{proxy+}", methods=[apigwv2.HttpMethod.ANY], integration=pings
        )
        self.http_api.add_routes(
            path="/api/{proxy+}", methods=[apigwv2.HttpMethod.ANY], integration=management
        )
        self.http_api.add_routes(path="/", methods=[apigwv2.HttpMethod.GET], integration=management)
        # Status badges are public: their URLs carry a signature or a random key instead.
        for badges in ("/badge/{proxy+}", "/b/{proxy+}"):
            self.http_api.add_routes(
                path=badges,
                methods=[apigwv2.HttpMethod.GET, apigwv2.HttpMethod.OPTIONS],
                integration=management,
            )
        acknowledge(
            self.http_api,
            "APIG4",
            "Healthchecks.io-compatible clients authenticate in the request itself: a "
            "ping URL holds its check's random UUID (122 bits), and the management API "
            "checks the X-Api-Key header against HMAC digests in its function.",
        )
