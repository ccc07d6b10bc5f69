"""Local functions take turns as Lambda instances do, and the HTTP handlers share one turn."""

from __future__ import annotations

import threading
from typing import Any

from cronbeat.local.functions import API, NOTIFIER, PING, SCANNER, LocalFunction


def test_ping_and_api_share_one_turn_and_the_others_have_their_own() -> None:
    # Given the four local functions
    # Then ping and API take turns with each other (Powertools keeps the current request in one
    # class-wide attribute), while the scanner and notifier run beside them
    assert PING._serial is API._serial
    assert SCANNER._serial is not PING._serial
    assert NOTIFIER._serial is not SCANNER._serial


def test_an_invocation_holds_its_turn_for_the_whole_handler_call() -> None:
    # Given a function whose handler notes whether the shared turn is held
    turn = threading.Lock()
    function = LocalFunction("probe", timeout_s=1, serial=turn)
    seen: list[bool] = []

    def handler(event: dict[str, Any], context: Any) -> str:
        seen.append(turn.locked())
        return "done"

    function._handler = handler
    # When it is invoked
    reply = function.invoke({})
    # Then the turn was held during the call and released after it
    assert reply == "done"
    assert seen == [True]
    assert not turn.locked()
