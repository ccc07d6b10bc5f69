"""The composition root: every store, built from one set of settings and one DynamoDB client.

Handlers get theirs from `runtime.stores()`; local mode, `cronbeat keys` and the tests call
`build_stores` with their own client, so nothing else knows which store takes which table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cronbeat.settings import Settings
from cronbeat.store.channels import ChannelStore
from cronbeat.store.checks import CheckRepository
from cronbeat.store.deliveries import DeliveryStore
from cronbeat.store.history import History
from cronbeat.store.keys import ApiKeyStore
from cronbeat.store.project import ProjectStore


@dataclass(frozen=True, slots=True)
class Stores:
    settings: Settings
    checks: CheckRepository
    history: History
    channels: ChannelStore
    project: ProjectStore
    keys: ApiKeyStore
    deliveries: DeliveryStore


def build_stores(settings: Settings, dynamodb: Any) -> Stores:
    """Every store on `dynamodb`, with the tables and limits `settings` name."""
    return Stores(
        settings=settings,
        checks=CheckRepository(
            dynamodb, settings.checks_table, scan_segments=settings.scan_segments
        ),
        history=History(
            dynamodb,
            settings.events_table,
            ping_retention_days=settings.ping_retention_days,
            flip_retention_days=settings.flip_retention_days,
        ),
        channels=ChannelStore(dynamodb, settings.events_table),
        project=ProjectStore(dynamodb, settings.events_table),
        keys=ApiKeyStore(dynamodb, settings.events_table),
        deliveries=DeliveryStore(
            dynamodb,
            events_table=settings.events_table,
            retention_days=settings.flip_retention_days,
        ),
    )
