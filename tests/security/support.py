"""What the security tests share: a secured deployment's settings, app and keys."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from bullpen.store import make_engine
from bullpen.store.apikeys import create_key
from online.app import create_app
from online.config import OnlineSettings
from tests.online.conftest import SECRET, StoreData


@dataclass
class Secured:
    store: StoreData
    redis_url: str
    read_key: str
    admin_key: str

    def settings(self, **overrides: object) -> OnlineSettings:
        return OnlineSettings(
            database_url=self.store.url, redis_url=self.redis_url, api_key_secret=SECRET,
            migrate_on_start=False, rate_limit_per_s=100_000, rate_limit_burst=100_000,
        ).model_copy(update=overrides)  # fmt: skip

    def app(self, **overrides: object) -> FastAPI:
        return create_app(self.settings(**overrides))

    def new_key(self, name: str, scope: str = "read") -> tuple[str, int]:
        engine = make_engine(self.store.url)
        try:
            key, record = create_key(engine, SECRET, name, scope)
        finally:
            engine.dispose()
        return key, record.id
