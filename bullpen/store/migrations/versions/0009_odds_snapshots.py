"""Odds line history (`bullpen.store.live_schema.OddsSnapshotRow`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "odds_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("game_id", sa.String(32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("book", sa.String(64), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("home_decimal", sa.Float(), nullable=False),
        sa.Column("away_decimal", sa.Float(), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_odds_snapshots"),
        sa.UniqueConstraint(
            "game_id", "book", "taken_at", name="uq_odds_snapshots_game_id_book_taken_at"
        ),
    )
    op.create_index("ix_odds_snapshots_game_id", "odds_snapshots", ["game_id"])
    op.create_index("ix_odds_snapshots_date", "odds_snapshots", ["date"])


def downgrade() -> None:
    op.drop_index("ix_odds_snapshots_date", table_name="odds_snapshots")
    op.drop_index("ix_odds_snapshots_game_id", table_name="odds_snapshots")
    op.drop_table("odds_snapshots")
