"""HTTP API (payload v2) → the management API v3, compatible with Healthchecks.io, and `GET /`.

The routes are in `cronbeat.api.routes`; Healthchecks.io's error wording and order in
`cronbeat.api.errors`.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler import content_types as types
from aws_lambda_powertools.event_handler.openapi.models import APIKey, Server
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cronbeat import runtime
from cronbeat.api import dashboard, errors, headers, openapi
from cronbeat.api.auth import request_view
from cronbeat.api.errors import TEXT
from cronbeat.api.requests import canonical_event
from cronbeat.api.routes import allowed_methods, cors_headers, route, router
from cronbeat.api.shapes import API_PREFIX

runtime.settings()  # at init: a bad environment fails the cold start, not a request
logger = Logger()
app = APIGatewayHttpResolver(
    enable_validation=True,
    cors=CORSConfig(
        allow_origin="*", allow_headers=headers.ALLOWED_HEADERS, max_age=headers.MAX_AGE_S
    ),
)
app.include_router(router)
errors.install(app, check_key=lambda: request_view(app), allowed_methods=allowed_methods)


@route("GET", "/", on=app, key=False, cors=False, include_in_schema=False)
def dashboard_page() -> Response[str]:
    page = dashboard.page()
    return Response(200, "text/html; charset=utf-8", page.html, headers=dashboard.headers(page))


@route("GET", f"{API_PREFIX}/openapi.json", on=app, key=False, include_in_schema=False)
def openapi_json() -> Response[str]:
    return Response(200, types.APPLICATION_JSON, openapi_document())


@route(
    "GET",
    f"{API_PREFIX}/status/",
    on=app,
    key=False,
    summary="Answers OK when the API can reach DynamoDB (no key).",
)
def status() -> Response[str]:
    stores = runtime.stores()
    if not (stores.checks.reachable() and stores.history.reachable()):
        return Response(503, TEXT, "DynamoDB is unreachable")
    return Response(200, TEXT, "OK")


def openapi_document() -> str:
    """The OpenAPI document of these routes, as committed in `openapi.json`."""
    generated = app.get_openapi_json_schema(
        title="cronbeat management API",
        version="3",
        description="Healthchecks.io's Management API v3, plus channels and cronbeat's fields.",
        servers=[Server(url="/")],
        security_schemes={
            "apiKey": APIKey.model_validate({"type": "apiKey", "in": "header", "name": "X-Api-Key"})
        },
        security=[{"apiKey": []}],
    )
    return json.dumps(openapi.as_served(json.loads(generated)), indent=2)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = canonical_event(event)
    reply: dict[str, Any] = app.resolve(request, context)
    path = request.get("rawPath")
    cors = cors_headers(path) if isinstance(path, str) else {}
    reply["headers"] = {**(reply.get("headers") or {}), **cors}
    return reply
