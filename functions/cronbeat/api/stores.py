"""The stores the management API works with, built once from the runtime's client and settings."""

from __future__ import annotations

from dataclasses import dataclass

from cronbeat import runtime
from cronbeat.settings import Settings
from cronbeat.store.catalog import Catalog
from cronbeat.store.channels import ChannelStore
from cronbeat.store.checks import CheckStore
from cronbeat.store.keys import ApiKeyStore
from cronbeat.store.project import ProjectStore


@dataclass(frozen=True, slots=True)
class Stores:
    settings: Settings
    checks: CheckStore
    catalog: Catalog
    channels: ChannelStore
    project: ProjectStore
    keys: ApiKeyStore

    @classmethod
    def from_runtime(cls) -> Stores:
        settings = runtime.settings()
        db = runtime.dynamodb()
        return cls(
            settings=settings,
            checks=CheckStore(db, settings.checks_table, settings.events_table, settings),
            catalog=Catalog(db, settings.checks_table, settings.events_table),
            channels=ChannelStore(db, settings.events_table),
            project=ProjectStore(db, settings.events_table),
            keys=ApiKeyStore(db, settings.events_table, settings.api_key_pepper),
        )
