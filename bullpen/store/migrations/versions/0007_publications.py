"""Published prices, frozen for grading (`bullpen.store.live_schema.PublicationRow`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("game_id", sa.String(32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("feature_version", sa.String(64), nullable=False),
        sa.Column("inputs_hash", sa.String(16), nullable=False),
        sa.Column("p_home", sa.Float(), nullable=False),
        sa.Column("elo_p_home", sa.Float(), nullable=True),
        sa.Column("home_sp_id", sa.String(16), nullable=True),
        sa.Column("away_sp_id", sa.String(16), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_publications"),
        sa.UniqueConstraint(
            "game_id", "model_version", "inputs_hash",
            name="uq_publications_game_id_model_version_inputs_hash",
        ),
    )  # fmt: skip
    op.create_index("ix_publications_game_id", "publications", ["game_id"])
    op.create_index("ix_publications_date", "publications", ["date"])


def downgrade() -> None:
    op.drop_index("ix_publications_date", table_name="publications")
    op.drop_index("ix_publications_game_id", table_name="publications")
    op.drop_table("publications")
