"""CPU per warm ping through the handler ÷ CPU of the bare boto3 calls that ping makes.

Both run in this process against the stub DynamoDB in another process (HTTP/1.1 keep-alive, a
realistic ~20-attribute check item in the UpdateItem reply), so only client-side work is compared:
what the handler adds on top of the two calls it cannot avoid.
Also reports the DynamoDB calls one common-case ping makes, counted by the stub.
"""

from __future__ import annotations

import time
from typing import Any

from tests.integration.api_requests import LambdaContext, api_event

from benchmarks import stub_dynamodb as stub
from benchmarks.harness import REPETITIONS, median, report
from benchmarks.stub_dynamodb import CHECK_ID

PINGS_PER_REPETITION = 300


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def main() -> None:
    with stub.running() as endpoint:
        report(measure(endpoint))


def measure(endpoint: str) -> dict[str, Any]:
    stub.use_stub(endpoint)

    from cronbeat import runtime
    from cronbeat.handlers import ping

    client = runtime.dynamodb()
    event = api_event("GET", f"/ping/{CHECK_ID}")
    context = LambdaContext()

    for _ in range(50):
        assert ping.handler(event, context)["statusCode"] == 200
    stub.counts(endpoint)

    calls: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, params))

    client.meta.events.register("provide-client-params.dynamodb.*", record)
    assert ping.handler(event, context)["statusCode"] == 200
    client.meta.events.unregister("provide-client-params.dynamodb.*", record)
    calls_per_ping = stub.counts(endpoint)

    log_bytes_per_ping = _log_bytes_per_ping(ping, event, context)

    handler_us: list[float] = []
    bare_us: list[float] = []
    replay = [(getattr(client, _snake(name)), params) for name, params in calls]
    for _ in range(REPETITIONS):
        start = time.process_time()
        for _ in range(PINGS_PER_REPETITION):
            ping.handler(event, context)
        handler_us.append((time.process_time() - start) / PINGS_PER_REPETITION * 1e6)
        start = time.process_time()
        for _ in range(PINGS_PER_REPETITION):
            for call, params in replay:
                call(**params)
        bare_us.append((time.process_time() - start) / PINGS_PER_REPETITION * 1e6)

    return {
        "ping_cpu_us": round(median(handler_us), 1),
        "bare_boto3_cpu_us": round(median(bare_us), 1),
        "ping_cpu_ratio": round(median(handler_us) / median(bare_us), 3),
        "calls_per_ping": calls_per_ping,
        "log_bytes_per_ping": log_bytes_per_ping,
    }


def _log_bytes_per_ping(ping: Any, event: dict[str, Any], context: Any) -> float:
    """What the handler's logger writes per common ping, at the stack's default level (INFO)."""
    import io

    (handler,) = ping.logger.handlers
    written = io.StringIO()
    previous = handler.setStream(written)
    previous_level = ping.logger.log_level
    ping.logger.setLevel("INFO")
    try:
        for _ in range(100):
            ping.handler(event, context)
    finally:
        handler.setStream(previous)
        ping.logger.setLevel(previous_level)
    return round(len(written.getvalue().encode()) / 100, 1)


if __name__ == "__main__":
    main()
