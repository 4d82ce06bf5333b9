"""Features and predictions record their inputs: a hash and the announced starters.

Written by hand to match `bullpen.store.schema` (`bullpen.domain.inputs`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("features", "predictions")
COLUMNS = (
    ("inputs_hash", 16), ("home_sp_id", 16), ("home_sp_name", 128),
    ("away_sp_id", 16), ("away_sp_name", 128),
)  # fmt: skip


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for name, length in COLUMNS:
                batch.add_column(sa.Column(name, sa.String(length), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for name, _ in reversed(COLUMNS):
                batch.drop_column(name)
