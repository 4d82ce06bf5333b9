"""Alembic environment for the bullpen store.

The database URL is taken, in order, from `-x url=...` on the alembic command
line, the config's `sqlalchemy.url` (set by `bullpen.store.migrate`), then
`BULLPEN_DATABASE_URL` / the settings default. An open connection passed in
`config.attributes["connection"]` is used as is. SQLite runs in batch mode,
because it cannot ALTER most things in place.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bullpen.store.engine import make_engine
from bullpen.store.schema import Base

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return url
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bullpen.settings import StoreSettings

    return StoreSettings().database_url


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=database_url().startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            run_with(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
