"""The composition root: every store, built from one set of settings and one DynamoDB client.

Handlers get theirs from `runtime.stores()`; local mode, `cronbeat keys` and the tests call
`build_stores` with their own client, so nothing else knows which store takes which table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cronbeat.settings import Settings
from cronbeat.store.catalog import Catalog
from cronbeat.store.channels import ChannelStore
from cronbeat.store.checks import CheckStore
from cronbeat.store.deliveries import DeliveryStore
from cronbeat.store.keys import ApiKeyStore
from cronbeat.store.project import ProjectStore
from cronbeat.store.sweeps import SweepStore


@dataclass(frozen=True, slots=True)
class Stores:
    settings: Settings
    checks: CheckStore
    catalog: Catalog
    sweeps: SweepStore
    channels: ChannelStore
    project: ProjectStore
    keys: ApiKeyStore
    deliveries: DeliveryStore


def build_stores(settings: Settings, dynamodb: Any) -> Stores:
    """Every store on `dynamodb`, with the tables and limits `settings` name."""
    return Stores(
        settings=settings,
        checks=CheckStore(dynamodb, settings.checks_table, settings.events_table, settings),
        catalog=Catalog(dynamodb, settings.checks_table, settings.events_table),
        sweeps=SweepStore(
            dynamodb,
            checks_table=settings.checks_table,
            events_table=settings.events_table,
            segments=settings.scan_segments,
            flip_retention_days=settings.flip_retention_days,
        ),
        channels=ChannelStore(dynamodb, settings.events_table),
        project=ProjectStore(dynamodb, settings.events_table),
        keys=ApiKeyStore(dynamodb, settings.events_table, settings.api_key_pepper),
        deliveries=DeliveryStore(
            dynamodb,
            events_table=settings.events_table,
            retention_days=settings.flip_retention_days,
        ),
    )
