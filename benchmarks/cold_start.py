"""Cold start: a fresh interpreter to the ping handler's first reply ÷ to bare boto3's first call.

Each sample is a new process against the stub DynamoDB. The handler side imports the handler,
builds its client and answers one ping (the UpdateItem and PutItem included); the bare side
imports boto3, builds a client and makes the same UpdateItem. Each child reports its own process
CPU time at that moment, which counts the interpreter's start-up as well and, unlike wall time,
does not grow when other work shares the machine. On Lambda the init phase is this CPU, at the
function's share of a vCPU.

Also the cold import of every handler module alone, as before, for comparison between handlers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.integration.api_requests import api_event

from benchmarks import stub_dynamodb as stub
from benchmarks.harness import REPETITIONS, median, python_env, report

HANDLER_FIRST_REPLY = """
import json, os, time
class Context:
    function_name = "cronbeat-ping"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cronbeat-ping"
    aws_request_id = "5b0f3c1e-7a2d-4c8e-9f10-2e3d4c5b6a70"
from cronbeat.handlers import ping
reply = ping.handler(json.loads(os.environ["BENCH_EVENT"]), Context())
assert reply["statusCode"] == 200, reply
print(time.process_time())
"""
BARE_FIRST_CALL = """
import json, os, time
import boto3
client = boto3.client("dynamodb")
client.update_item(**json.loads(os.environ["BENCH_CALL"]))
print(time.process_time())
"""
MODULES = {
    "boto3": "boto3",
    "ping": "cronbeat.handlers.ping",
    "api": "cronbeat.handlers.api",
    "scanner": "cronbeat.handlers.scanner",
    "notifier": "cronbeat.handlers.notifier",
    "deliverer": "cronbeat.handlers.deliverer",
}
IMPORT_TIMER = (
    "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
)


def _child(code: str, **env: str) -> float:
    completed = subprocess.run(
        [sys.executable, "-c", code],
        env=python_env(**env),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(completed.stdout.strip().splitlines()[-1])


def measure(endpoint: str) -> dict[str, Any]:
    tables = {"CRONBEAT_CHECKS_TABLE": "checks", "CRONBEAT_EVENTS_TABLE": "events"}
    event = json.dumps(api_event("GET", f"/ping/{stub.CHECK_ID}"))
    call = json.dumps(
        {
            "TableName": "checks",
            "Key": {"id": {"S": stub.CHECK_ID}},
            "UpdateExpression": "SET n_pings = n_pings + :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
            "ReturnValues": "ALL_NEW",
        }
    )
    samples: dict[str, list[float]] = {"handler": [], "bare": [], **{m: [] for m in MODULES}}
    for _ in range(REPETITIONS):  # interleaved, so drift in machine load hits every side alike
        samples["handler"].append(
            _child(HANDLER_FIRST_REPLY, AWS_ENDPOINT_URL=endpoint, BENCH_EVENT=event, **tables)
        )
        samples["bare"].append(_child(BARE_FIRST_CALL, AWS_ENDPOINT_URL=endpoint, BENCH_CALL=call))
        for name, module in MODULES.items():
            samples[name].append(_child(IMPORT_TIMER.format(module=module)))
    handler_ms, bare_ms = median(samples["handler"]) * 1000, median(samples["bare"]) * 1000
    imports = {name: round(median(samples[name]) * 1000, 1) for name in MODULES}
    return {
        "cold_start_ms": {
            "ping_first_reply": round(handler_ms, 1),
            "boto3_first_call": round(bare_ms, 1),
        },
        "cold_start_ratio": round(handler_ms / bare_ms, 3),
        **{f"{name}_import_ms": ms for name, ms in imports.items()},
    }


if __name__ == "__main__":
    with stub.running() as endpoint:
        report(measure(endpoint))
