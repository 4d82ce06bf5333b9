"""Live game days: the schedule with each game's lifecycle, announced starters, feed issues.

Written by hand to match `bullpen.store.live_schema`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "schedule",
        sa.Column("game_id", sa.String(32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("game_number", sa.Integer(), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("home", sa.String(8), nullable=False),
        sa.Column("away", sa.String(8), nullable=False),
        sa.Column("home_league", sa.String(8), nullable=True),
        sa.Column("away_league", sa.String(8), nullable=True),
        sa.Column("day_night", sa.String(8), nullable=True),
        sa.Column("first_pitch", TIMESTAMP, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("postponed_reason", sa.Text(), nullable=True),
        sa.Column("makeup_date", sa.Date(), nullable=True),
        sa.Column("location", sa.String(16), nullable=True),
        sa.Column("external_id", sa.String(32), nullable=True),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("game_id", name="pk_schedule"),
    )
    op.create_index("ix_schedule_date", "schedule", ["date"])
    op.create_index("ix_schedule_season", "schedule", ["season"])
    op.create_table(
        "starters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("game_id", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("pitcher_id", sa.String(16), nullable=True),
        sa.Column("pitcher_name", sa.String(128), nullable=False),
        sa.Column("team", sa.String(8), nullable=False),
        sa.Column("announced_at", TIMESTAMP, nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_starters"),
    )
    op.create_index("ix_starters_game_id", "starters", ["game_id"])
    op.create_table(
        "feed_issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("location", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("quarantined_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feed_issues"),
        sa.UniqueConstraint("source", "location", name="uq_feed_issues_source_location"),
    )


def downgrade() -> None:
    op.drop_table("feed_issues")
    op.drop_index("ix_starters_game_id", table_name="starters")
    op.drop_table("starters")
    op.drop_index("ix_schedule_season", table_name="schedule")
    op.drop_index("ix_schedule_date", table_name="schedule")
    op.drop_table("schedule")
