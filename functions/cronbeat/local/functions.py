"""The five Lambda functions, run in-process with a context shaped like Lambda's.

Handler modules are imported on first use, after local mode has pointed the environment at moto,
so their module-level setup (Powertools loggers, routers) sees the same settings as on Lambda.
"""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


@dataclass
class LambdaContext:
    """The attributes Powertools and handlers read from Lambda's context object."""

    function_name: str
    timeout_s: int
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deadline_ms: int = 0

    def __post_init__(self) -> None:
        self.deadline_ms = time.time_ns() // 1_000_000 + self.timeout_s * 1000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - time.time_ns() // 1_000_000)


class Invocable(Protocol):
    def invoke(self, event: dict[str, Any]) -> Any: ...


class LocalFunction:
    """One Lambda function: `cronbeat.handlers.<name>.handler`, loaded when first invoked.

    Like one Lambda instance, it handles one event at a time. Functions that share `serial` take
    turns with each other too: Powertools' resolvers keep the current request in one class-wide
    attribute, so the ping and API handlers must never run at the same moment in one process.
    A `concurrent` function stands for many instances at once (the deliverer scales out).
    """

    def __init__(
        self,
        name: str,
        timeout_s: int,
        serial: threading.Lock | None = None,
        *,
        concurrent: bool = False,
    ) -> None:
        self.name = name
        self.module_name = f"cronbeat.handlers.{name}"
        self.timeout_s = timeout_s
        self._handler: Any = None
        self._lock = threading.Lock()
        self._serial = serial if serial is not None else threading.Lock()
        self._concurrent = concurrent

    def load(self) -> Any:
        """Import the handler (once). Raises ImportError while the module does not exist yet."""
        with self._lock:
            if self._handler is None:
                self._handler = importlib.import_module(self.module_name).handler
            return self._handler

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LambdaContext(function_name=f"cronbeat-{self.name}", timeout_s=self.timeout_s)
        handler = self.load()
        if self._concurrent:
            return handler(event, context)
        with self._serial:
            return handler(event, context)


_HTTP_RESOLVERS = threading.Lock()
PING = LocalFunction("ping", timeout_s=10, serial=_HTTP_RESOLVERS)
API = LocalFunction("api", timeout_s=29, serial=_HTTP_RESOLVERS)
SCANNER = LocalFunction("scanner", timeout_s=60)
NOTIFIER = LocalFunction("notifier", timeout_s=60)
DELIVERER = LocalFunction("deliverer", timeout_s=30, concurrent=True)
