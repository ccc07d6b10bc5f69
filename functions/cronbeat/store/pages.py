"""Every page of a Scan or Query: DynamoDB answers one call with at most 1 MB of items."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cronbeat.store.codec import Item


def pages(call: Callable[..., Any], request: dict[str, Any]) -> Iterator[list[Item]]:
    """The items of each page `call(**request)` answers, following `LastEvaluatedKey` to the end."""
    request = dict(request)
    while True:
        page = call(**request)
        yield page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def items(call: Callable[..., Any], request: dict[str, Any]) -> Iterator[Item]:
    """Every item of every page, in order."""
    for page in pages(call, request):
        yield from page
