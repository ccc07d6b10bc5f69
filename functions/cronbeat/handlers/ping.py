"""Ping endpoint: API Gateway HTTP API (payload v2), route `ANY /ping/{proxy+}`; and, with an
email domain, the inbound-mail topic's SNS records (`api/email_pings.py`).

Every monitored job calls this, so it imports only what a ping needs (no Tracer: X-Ray would
double the cost of a 1-minute check) and emits one custom metric, for failure pings only: the
ping volume is already Lambda's free Invocations metric.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from cronbeat import clock, runtime
from cronbeat.api import ping_protocol as protocol
from cronbeat.api.headers import NEVER_CACHE, cors_headers
from cronbeat.service.ping import default_service

runtime.settings()  # at init: a bad environment fails the cold start, not a request
logger = Logger()
# One compact line per ping (level, message, status, kind, check, ms): Lambda's own START and
# REPORT lines already name the function, the request and the memory, and every byte logged
# is paid for on every ping of every check.
logger.remove_keys(["location", "timestamp", "service", "xray_trace_id"])
app = APIGatewayHttpResolver()


def _plain(reply: protocol.Reply) -> Response[str]:
    """The text/plain reply with the headers Healthchecks.io sends on every ping response."""
    return Response(
        status_code=reply.status_code,
        content_type="text/plain",
        body=reply.text,
        headers={
            "Access-Control-Allow-Origin": "*",
            "Cache-Control": NEVER_CACHE,
            "Ping-Body-Limit": str(runtime.settings().ping_body_limit_bytes),
        },
    )


def _count_failure_ping() -> None:
    """Emit FailurePings=1 now. A single metric flushes itself, so other pings emit nothing."""
    with single_metric(
        name="FailurePings", unit=MetricUnit.Count, value=1, namespace=runtime.METRICS_NAMESPACE
    ):
        pass


@app.route("/ping/.+", method=["OPTIONS"])
def preflight() -> Response[str]:
    """A browser's CORS preflight: answered, and never recorded as a ping."""
    headers = {**cors_headers(list(protocol.METHODS)), "Cache-Control": NEVER_CACHE}
    return Response(status_code=204, content_type="text/plain", body="", headers=headers)


@app.route("/ping/.+", method=["GET", "POST", "HEAD", "PUT", "PATCH", "DELETE"])
def ping() -> Response[str]:
    started = time.perf_counter()
    event = app.current_event
    try:
        request = protocol.parse_request(
            method=event.request_context.http.method,
            path=event.path,
            query=event.query_string_parameters,
            headers=event.headers,
            source_ip=event.request_context.http.source_ip,
            body=event.body,
            is_base64=bool(event.is_base64_encoded),
            body_limit_bytes=runtime.settings().ping_body_limit_bytes,
        )
    except protocol.Rejected as rejected:
        # The reply's own words, never the path: it can hold a check's uuid or the ping key.
        refused = {"status": rejected.reply.status_code, "reason": rejected.reply.text[:80]}
        logger.info("ping refused", extra=refused)
        return _plain(rejected.reply)
    if request.target.check_id is not None:
        logger.append_keys(check_id=request.target.check_id)
    recorded = default_service().record(
        request.address,
        request.ping,
        request.sender,
        create=request.create,
        at_ms=clock.now_ms(),
        request_id=event.request_context.request_id,
    )
    if recorded.check_id is not None:
        logger.append_keys(check_id=recorded.check_id)
    if recorded.kind == "fail":
        _count_failure_ping()
    reply = protocol.reply_for(recorded.outcome)
    took_ms = round((time.perf_counter() - started) * 1000)
    logger.info("ping", extra={"status": reply.status_code, "kind": recorded.kind, "ms": took_ms})
    return _plain(reply)


@app.not_found
def not_found(_: Exception) -> Response[str]:
    return _plain(protocol.NOT_FOUND)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.remove_keys(["check_id"])  # the last invocation's check
    if "Records" in event:
        return _pings_by_email(event)
    return app.resolve(event, context)


def _pings_by_email(event: dict[str, Any]) -> dict[str, Any]:
    """Mails SES received, through the inbound-mail topic: each recipient's check is pinged.

    A record that is not a readable mail is logged and dropped: retrying it would fail the same.
    """
    from pydantic import ValidationError

    from cronbeat.api import email_pings

    recorded = 0
    try:
        sns_records = email_pings.records(event)
    except ValidationError:
        logger.warning("event dropped: not an SNS notification")
        return {"pings": 0}
    limit = runtime.settings().ping_body_limit_bytes
    for record in sns_records:
        try:
            pings = email_pings.read_record(record, body_limit_bytes=limit)
        except email_pings.Unreadable as unreadable:
            logger.warning("mail dropped: unreadable", extra={"reason": str(unreadable)})
            continue
        # SNS delivers at least once: its message id (and the recipient's place) makes a
        # redelivered mail count once, as the request id does for an HTTP ping.
        message_id = str(record.get("Sns", {}).get("MessageId") or "")
        for place, mailed in enumerate(pings):
            done = default_service().record(
                mailed.address,
                mailed.ping,
                mailed.sender,
                create=False,
                at_ms=clock.now_ms(),
                request_id=f"{message_id}/{place}" if message_id else "",
            )
            if done.kind == "fail":
                _count_failure_ping()
            logger.info(
                "email ping",
                extra={"outcome": done.outcome, "kind": done.kind, "check_id": done.check_id},
            )
            recorded += done.outcome == "recorded"
    return {"pings": recorded}
