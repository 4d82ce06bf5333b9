"""Initial store schema: games, quarantine, ingested files, features, models, predictions.

Written by hand to match `bullpen.store.schema`; `tests/store` checks that
autogenerate finds no difference between the two.

Revision ID: 0001
Revises:
Create Date: 2024-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def _int(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "games",
        sa.Column("game_id", sa.String(32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        _int("game_number"),
        _int("season"),
        sa.Column("home", sa.String(8), nullable=False),
        sa.Column("away", sa.String(8), nullable=False),
        sa.Column("home_league", sa.String(8), nullable=False),
        sa.Column("away_league", sa.String(8), nullable=False),
        _int("home_score"),
        _int("away_score"),
        sa.Column("outs", sa.Integer(), nullable=True),
        sa.Column("day_night", sa.String(8), nullable=False),
        sa.Column("park", sa.String(16), nullable=False),
        sa.Column("home_sp_id", sa.String(16), nullable=False),
        sa.Column("home_sp_name", sa.String(128), nullable=False),
        sa.Column("away_sp_id", sa.String(16), nullable=False),
        sa.Column("away_sp_name", sa.String(128), nullable=False),
        _int("home_ab"),
        _int("home_bb"),
        _int("home_hbp"),
        _int("home_sf"),
        _int("home_sh"),
        _int("home_k"),
        _int("home_h"),
        _int("home_hr"),
        _int("away_ab"),
        _int("away_bb"),
        _int("away_hbp"),
        _int("away_sf"),
        _int("away_sh"),
        _int("away_k"),
        _int("away_h"),
        _int("away_hr"),
        _int("home_pitchers_used"),
        _int("away_pitchers_used"),
        _int("home_errors"),
        _int("away_errors"),
        sa.Column("source_line", sa.Text(), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("loaded_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("game_id", name="pk_games"),
    )
    op.create_index("ix_games_date", "games", ["date"])
    op.create_index("ix_games_season", "games", ["season"])

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        _int("line_number"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("quarantined_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine"),
        sa.UniqueConstraint("source", "line_number", name="uq_quarantine_source_line_number"),
    )

    op.create_table(
        "ingested_files",
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        _int("games"),
        _int("quarantined"),
        sa.Column("loaded_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_ingested_files"),
    )

    op.create_table(
        "features",
        sa.Column("game_id", sa.String(32), nullable=False),
        sa.Column("feature_version", sa.String(64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("computed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("game_id", "feature_version", name="pk_features"),
    )
    op.create_index("ix_features_date", "features", ["date"])

    op.create_table(
        "models",
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        _int("train_seasons_from"),
        _int("train_seasons_to"),
        sa.Column("feature_version", sa.String(64), nullable=True),
        sa.Column("feature_names", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("artifact", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(32), server_default="trained", nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_models"),
    )

    op.create_table(
        "predictions",
        sa.Column("game_id", sa.String(32), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("home", sa.String(8), nullable=False),
        sa.Column("away", sa.String(8), nullable=False),
        sa.Column("p_home", sa.Float(), nullable=False),
        sa.Column("feature_version", sa.String(64), nullable=True),
        sa.Column("computed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("game_id", "model_version", name="pk_predictions"),
    )
    op.create_index("ix_predictions_date", "predictions", ["date"])


def downgrade() -> None:
    op.drop_index("ix_predictions_date", table_name="predictions")
    op.drop_table("predictions")
    op.drop_table("models")
    op.drop_index("ix_features_date", table_name="features")
    op.drop_table("features")
    op.drop_table("ingested_files")
    op.drop_table("quarantine")
    op.drop_index("ix_games_season", table_name="games")
    op.drop_index("ix_games_date", table_name="games")
    op.drop_table("games")
