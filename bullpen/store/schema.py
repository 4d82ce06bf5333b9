"""Declarative SQLAlchemy models of the app store.

This module is the single description of the schema: the Alembic migrations in
`bullpen.store.migrations` are written to match it, and a test compares the two
so they cannot drift. There are deliberately no foreign keys between tables:
features and predictions also exist for scheduled games that are not in the
game logs yet, and predictions may come from models outside the registry
(baselines), so the store must not refuse them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint and index names, so migrations can name them exactly
# and batch mode on SQLite can find them again.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Timestamps are stored timezone-aware where the database can (PostgreSQL);
# SQLite keeps them naive and the repository reads them back as UTC.
Timestamp = DateTime(timezone=True)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Game(Base):
    """One row per `bullpen.domain.gamelogs.GameRecord`, plus where and when it was loaded."""

    __tablename__ = "games"

    game_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    game_number: Mapped[int] = mapped_column(Integer)
    season: Mapped[int] = mapped_column(Integer, index=True)
    home: Mapped[str] = mapped_column(String(8))
    away: Mapped[str] = mapped_column(String(8))
    home_league: Mapped[str] = mapped_column(String(8))
    away_league: Mapped[str] = mapped_column(String(8))
    home_score: Mapped[int] = mapped_column(Integer)
    away_score: Mapped[int] = mapped_column(Integer)
    outs: Mapped[int | None] = mapped_column(Integer)
    day_night: Mapped[str] = mapped_column(String(8))
    park: Mapped[str] = mapped_column(String(16))
    home_sp_id: Mapped[str] = mapped_column(String(16))
    home_sp_name: Mapped[str] = mapped_column(String(128))
    away_sp_id: Mapped[str] = mapped_column(String(16))
    away_sp_name: Mapped[str] = mapped_column(String(128))
    home_ab: Mapped[int] = mapped_column(Integer)
    home_bb: Mapped[int] = mapped_column(Integer)
    home_hbp: Mapped[int] = mapped_column(Integer)
    home_sf: Mapped[int] = mapped_column(Integer)
    home_sh: Mapped[int] = mapped_column(Integer)
    home_k: Mapped[int] = mapped_column(Integer)
    home_h: Mapped[int] = mapped_column(Integer)
    home_hr: Mapped[int] = mapped_column(Integer)
    away_ab: Mapped[int] = mapped_column(Integer)
    away_bb: Mapped[int] = mapped_column(Integer)
    away_hbp: Mapped[int] = mapped_column(Integer)
    away_sf: Mapped[int] = mapped_column(Integer)
    away_sh: Mapped[int] = mapped_column(Integer)
    away_k: Mapped[int] = mapped_column(Integer)
    away_h: Mapped[int] = mapped_column(Integer)
    away_hr: Mapped[int] = mapped_column(Integer)
    home_pitchers_used: Mapped[int] = mapped_column(Integer)
    away_pitchers_used: Mapped[int] = mapped_column(Integer)
    home_errors: Mapped[int] = mapped_column(Integer)
    away_errors: Mapped[int] = mapped_column(Integer)
    source_line: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(255))
    loaded_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class QuarantineRow(Base):
    """A rejected game-log line. (source, line_number) is unique so reloads upsert."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("source", "line_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(255))
    line_number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    quarantined_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class IngestedFile(Base):
    """What was loaded from each source file, so a changed file can be detected by hash."""

    __tablename__ = "ingested_files"

    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    games: Mapped[int] = mapped_column(Integer)
    quarantined: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class FeatureRow(Base):
    """Pre-game features of one game under one feature-set version, as a JSON dict.

    JSON rather than one column per feature, so a new feature version needs no
    migration.
    """

    __tablename__ = "features"

    game_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    feature_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    values: Mapped[dict[str, float | None]] = mapped_column(JSON)
    computed_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    # What else the values came from (`bullpen.domain.inputs`); null before migration 0006.
    inputs_hash: Mapped[str | None] = mapped_column(String(16))
    home_sp_id: Mapped[str | None] = mapped_column(String(16))
    home_sp_name: Mapped[str | None] = mapped_column(String(128))
    away_sp_id: Mapped[str | None] = mapped_column(String(16))
    away_sp_name: Mapped[str | None] = mapped_column(String(128))


class Model(Base):
    """The model registry: metadata, metrics and the serialized artifact itself."""

    __tablename__ = "models"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    train_seasons_from: Mapped[int] = mapped_column(Integer)
    train_seasons_to: Mapped[int] = mapped_column(Integer)
    # Nullable: models such as Elo use no feature set.
    feature_version: Mapped[str | None] = mapped_column(String(64))
    feature_names: Mapped[list[str]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    artifact: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(32), default="trained", server_default="trained")


class Prediction(Base):
    """Home-win probability of one game from one model version."""

    __tablename__ = "predictions"

    game_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    home: Mapped[str] = mapped_column(String(8))
    away: Mapped[str] = mapped_column(String(8))
    p_home: Mapped[float] = mapped_column(Float)
    feature_version: Mapped[str | None] = mapped_column(String(64))
    computed_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    # The inputs it was computed from: a stored prediction whose game's inputs changed
    # since is deleted by `write_features`, so none outlives its starter.
    inputs_hash: Mapped[str | None] = mapped_column(String(16))
    home_sp_id: Mapped[str | None] = mapped_column(String(16))
    home_sp_name: Mapped[str | None] = mapped_column(String(128))
    away_sp_id: Mapped[str | None] = mapped_column(String(16))
    away_sp_name: Mapped[str | None] = mapped_column(String(128))


games = Game.__table__
quarantine = QuarantineRow.__table__
ingested_files = IngestedFile.__table__
features = FeatureRow.__table__
models = Model.__table__
predictions = Prediction.__table__
