"""The app store (SQLite or PostgreSQL), migrated to the latest schema on first use."""

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr
from sqlalchemy import Engine

from bullpen.settings import StoreSettings
from bullpen.store import make_engine, upgrade


class StoreResource(ConfigurableResource):
    """The app store (SQLite or PostgreSQL), migrated to the latest schema on first use."""

    database_url: str = Field(
        default_factory=lambda: StoreSettings().database_url,
        description="SQLAlchemy URL of the app store (default: BULLPEN_DATABASE_URL).",
    )
    _engine: Engine | None = PrivateAttr(default=None)

    def engine(self) -> Engine:
        """One engine (and connection pool) per resource instance, i.e. per run and process."""
        if self._engine is None:
            # Migrating first makes every asset safe to run against a brand-new database.
            upgrade(self.database_url)
            self._engine = make_engine(self.database_url)
        return self._engine

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        # Close pooled connections: on PostgreSQL, idle pools of finished steps
        # otherwise count against the server's connection slots.
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
