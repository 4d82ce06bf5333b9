"""The live tables: the schedule with each game's lifecycle, announced starters, feed issues.

`schedule` holds one row per game a feed has announced (Retrosheet schedule
files, the MLB Stats API, the operator's drop folder), with its lifecycle
status; `games` keeps holding only completed games from the game logs, so
everything that trains or builds history reads final games alone. `starters`
is append-only: a new row each time a side's announced starter changes, so who
was announced, when and by which feed is never overwritten. `publications` freezes
every price published for a game not played yet (model version, inputs, time): what
the scorecard grades. `feed_issues` keeps every record a feed could not use, with
its reason and raw text.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bullpen.store.schema import Base, Timestamp, utcnow


class ScheduleRow(Base):
    __tablename__ = "schedule"

    game_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    game_number: Mapped[int] = mapped_column(Integer)
    season: Mapped[int] = mapped_column(Integer, index=True)
    home: Mapped[str] = mapped_column(String(8))
    away: Mapped[str] = mapped_column(String(8))
    home_league: Mapped[str | None] = mapped_column(String(8))
    away_league: Mapped[str | None] = mapped_column(String(8))
    day_night: Mapped[str | None] = mapped_column(String(8))
    first_pitch: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(String(16))
    postponed_reason: Mapped[str | None] = mapped_column(Text)
    makeup_date: Mapped[dt.date | None] = mapped_column(Date)
    location: Mapped[str | None] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class StarterRow(Base):
    """One announcement of a side's starting pitcher; never updated or deleted."""

    __tablename__ = "starters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    game_id: Mapped[str] = mapped_column(String(32), index=True)
    side: Mapped[str] = mapped_column(String(8))
    # Null: the feed named a pitcher the store has never seen (the "unknown starter" state).
    pitcher_id: Mapped[str | None] = mapped_column(String(16))
    pitcher_name: Mapped[str] = mapped_column(String(128))
    team: Mapped[str] = mapped_column(String(8))
    announced_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    source: Mapped[str] = mapped_column(String(255))
    recorded_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class PublicationRow(Base):
    """A price as published (served) for a game not played yet; never updated or deleted.

    (game_id, model_version, inputs_hash) is unique: re-pricing with the same inputs
    publishes nothing new, and the first publication time stands.
    """

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("game_id", "model_version", "inputs_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    game_id: Mapped[str] = mapped_column(String(32), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    model_version: Mapped[str] = mapped_column(String(64))
    feature_version: Mapped[str] = mapped_column(String(64))
    inputs_hash: Mapped[str] = mapped_column(String(16))
    p_home: Mapped[float] = mapped_column(Float)
    # The Elo baseline's probability from the same pre-game features.
    elo_p_home: Mapped[float | None] = mapped_column(Float)
    home_sp_id: Mapped[str | None] = mapped_column(String(16))
    away_sp_id: Mapped[str | None] = mapped_column(String(16))
    published_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class FinalScoreRow(Base):
    """A final score a schedule feed reported before the game log has the game: enough to
    grade the published prices; the features wait for the game-log line."""

    __tablename__ = "final_scores"

    game_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    home_score: Mapped[int] = mapped_column(Integer)
    away_score: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(255))
    reported_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class FeedIssueRow(Base):
    """A feed record that could not be used. (source, location) is unique so re-reads upsert."""

    __tablename__ = "feed_issues"
    __table_args__ = (UniqueConstraint("source", "location"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(255))
    location: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    quarantined_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


schedule = ScheduleRow.__table__
starters = StarterRow.__table__
feed_issues = FeedIssueRow.__table__
publications = PublicationRow.__table__
final_scores = FinalScoreRow.__table__


class OddsSnapshotRow(Base):
    """One book's moneyline for one game at one time; never updated or deleted.

    (game_id, book, taken_at) is unique: importing the same snapshot twice stores it
    once. The game's closing line is each book's last row before first pitch.
    """

    __tablename__ = "odds_snapshots"
    __table_args__ = (UniqueConstraint("game_id", "book", "taken_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    game_id: Mapped[str] = mapped_column(String(32), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)  # the game's, for a date's board
    book: Mapped[str] = mapped_column(String(64))
    taken_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    home_decimal: Mapped[float] = mapped_column(Float)
    away_decimal: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(255))
    recorded_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


odds_snapshots = OddsSnapshotRow.__table__


class BetRow(Base):
    """A bet an API key recorded; never updated (its status is derived from results)."""

    __tablename__ = "bets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[int] = mapped_column(Integer, index=True)
    game_id: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    price: Mapped[float] = mapped_column(Float)  # decimal
    book: Mapped[str] = mapped_column(String(64))
    stake: Mapped[float] = mapped_column(Float)
    placed_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    recorded_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


bets = BetRow.__table__
