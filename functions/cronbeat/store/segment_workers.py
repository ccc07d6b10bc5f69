"""The segment worker on Lambda: each segment of a sweep is one asynchronous invocation."""

from __future__ import annotations

import json
from typing import Any

from cronbeat.service.fanout import SegmentTask


class LambdaSegmentWorkers:
    """Starts a segment's sweep with an `Event` invocation: Lambda queues it and retries a failed
    one twice, with the same event and so the same sweep time."""

    def __init__(self, lambda_client: Any, function_name: str) -> None:
        self._lambda = lambda_client
        self._function = function_name

    def invoke(self, task: SegmentTask) -> None:
        self._lambda.invoke(
            FunctionName=self._function,
            InvocationType="Event",
            Payload=json.dumps(task.as_event()).encode(),
        )
