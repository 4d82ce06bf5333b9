"""Legacy `production` status → `active`, audited.

Before blue-green promotion the registry called the served model `production`;
the promotion state machine (`bullpen.serving.lifecycle`) knows only `active`.
Every such row becomes `active` with a `model_audit` row naming this migration,
so the serving rule has one status to look for. Downgrade restores exactly the
rows this migration moved (found by their audit rows) and removes those rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY, ACTIVE = "production", "active"
ACTOR = "migration:0004"

models = sa.table("models", sa.column("version", sa.String), sa.column("status", sa.String))
model_audit = sa.table(
    "model_audit",
    sa.column("model_version", sa.String),
    sa.column("from_status", sa.String),
    sa.column("to_status", sa.String),
    sa.column("actor", sa.String),
    sa.column("reason", sa.Text),
    sa.column("at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    conn = op.get_bind()
    legacy = conn.execute(sa.select(models.c.version).where(models.c.status == LEGACY)).scalars()
    now = dt.datetime.now(dt.UTC)
    rows = [
        {"model_version": version, "from_status": LEGACY, "to_status": ACTIVE, "actor": ACTOR,
         "reason": "legacy status renamed: promotions know only `active`", "at": now}
        for version in legacy
    ]  # fmt: skip
    if rows:
        op.bulk_insert(model_audit, rows)
        conn.execute(models.update().where(models.c.status == LEGACY).values(status=ACTIVE))


def downgrade() -> None:
    conn = op.get_bind()
    moved = conn.execute(
        sa.select(model_audit.c.model_version).where(model_audit.c.actor == ACTOR)
    ).scalars()
    versions = list(moved)
    if versions:
        conn.execute(
            models.update()
            .where(models.c.version.in_(versions), models.c.status == ACTIVE)
            .values(status=LEGACY)
        )
        conn.execute(model_audit.delete().where(model_audit.c.actor == ACTOR))
