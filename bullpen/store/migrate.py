"""Run the store's Alembic migrations from code, without an alembic.ini on disk.

The pipeline, the API and the tests all call `upgrade(url)` at start-up, so the
migration environment ships inside the package and is configured here.
`python -m bullpen.store [URL]` does the same from a shell.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and at `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation treats `%` specially; URL-encoded passwords contain it.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (default: the latest schema)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Take the database at `url` down to `revision` (`base` drops every table)."""
    command.downgrade(alembic_config(url), revision)


def main(argv: list[str] | None = None) -> None:
    """Upgrade the database given as the first argument, else the configured one."""
    args = sys.argv[1:] if argv is None else argv
    if args:
        url = args[0]
    else:
        from bullpen.settings import StoreSettings

        url = StoreSettings().database_url
    upgrade(url)
