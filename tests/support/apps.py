"""Apps for tests: the core's and the web tier's settings on a given store and Redis.

`core_settings` is what `bullpen.settings.Settings` would read from the environment of
such a deployment; `app_env` is that environment, for a uvicorn process. `Stack` and
`Secured` bundle what the online and security suites build their apps from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import redis
from fastapi import FastAPI
from pydantic import SecretStr

from bullpen.settings import AuthSettings, RedisSettings, Settings, StoreSettings
from bullpen.store import make_engine
from bullpen.store.apikeys import create_key
from online.app import create_app
from online.config import OnlineSettings
from tests.support.data import MODEL_VERSION, SECRET, StoreData, serve, served_key

# No rate limit in the way of a test that is not about rate limits.
UNLIMITED = {"rate_limit_per_s": 1_000_000, "rate_limit_burst": 1_000_000, "rate_limit_lease": 1000}


def core_settings(
    db_url: str, redis_url: str, cluster: bool = False, secret: str = SECRET, **redis: Any
) -> Settings:
    """The core's settings of a deployment on `db_url` and `redis_url` (`redis`: more
    `RedisSettings` fields, e.g. `redis_deadline_s`)."""
    return Settings(
        store=StoreSettings(database_url=db_url),
        redis=RedisSettings(redis_url=redis_url, redis_cluster=cluster, **redis),
        auth=AuthSettings(api_key_secret=SecretStr(secret)),
    )


def app_env(db_url: str, redis_url: str, secret: str = SECRET, **extra: object) -> dict[str, str]:
    """BULLPEN_* variables of a server on `db_url` and `redis_url`; `extra` as settings."""
    env = {
        "BULLPEN_DATABASE_URL": db_url,
        "BULLPEN_REDIS_URL": redis_url,
        "BULLPEN_API_KEY_SECRET": secret,
        "BULLPEN_MIGRATE_ON_START": "false",
        **{f"BULLPEN_{k.upper()}": str(v) for k, v in UNLIMITED.items()},
    }
    env.update({f"BULLPEN_{k.upper()}": str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in extra.items()})  # fmt: skip
    return env


def new_key(store_url: str, name: str, scope: str = "read") -> tuple[str, int]:
    engine = make_engine(store_url)
    try:
        key, record = create_key(engine, SECRET, name, scope)
    finally:
        engine.dispose()
    return key, record.id


@dataclass
class Stack:
    """What an online test needs: settings for apps, sync Redis, keys, the store's games."""

    settings: Settings
    online: OnlineSettings
    redis: redis.Redis | redis.RedisCluster
    store: StoreData
    read_key: str
    admin_key: str
    cluster: bool

    def app(self, **overrides: object) -> FastAPI:
        """An app; `overrides` are `OnlineSettings` fields."""
        return create_app(self.settings, self.online.model_copy(update=overrides))

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"X-API-Key": key or self.read_key}

    def key_of(self, game_id: str) -> str:
        """The cache key of a game's prediction at the store's current revision."""
        engine = make_engine(self.store.url)
        try:
            return served_key(engine, MODEL_VERSION, game_id)
        finally:
            engine.dispose()

    def on(self, store: StoreData) -> Stack:
        """The same Redis on another store: its own registry, keys and served model, for a
        test that changes which model serves (the session's stores are shared)."""
        serve(store.url, self.redis)
        settings = self.settings.model_copy(update={"store": StoreSettings(database_url=store.url)})
        read_key, _ = new_key(store.url, "tests-read", "read")
        admin_key, _ = new_key(store.url, "tests-admin", "admin")
        return replace(self, settings=settings, store=store, read_key=read_key, admin_key=admin_key)


@dataclass
class Secured:
    """A secured deployment of the sample store on a private Redis, with a key per scope."""

    store: StoreData
    redis_url: str
    read_key: str
    admin_key: str

    def settings(self, **redis: Any) -> Settings:
        return core_settings(self.store.url, self.redis_url, **redis)

    def online(self, **overrides: object) -> OnlineSettings:
        base = OnlineSettings(migrate_on_start=False, **UNLIMITED)
        return base.model_copy(update=overrides)

    def app(
        self, redis_url: str | None = None, database_url: str | None = None, **overrides: object
    ) -> FastAPI:
        """An app; the URLs replace the deployment's, `overrides` are `OnlineSettings` fields."""
        settings = core_settings(database_url or self.store.url, redis_url or self.redis_url)
        return create_app(settings, self.online(**overrides))

    def new_key(self, name: str, scope: str = "read") -> tuple[str, int]:
        return new_key(self.store.url, name, scope)
