"""Reading and writing the live tables: schedule (with lifecycle), starters, feed issues.

Every write is one transaction and idempotent: reading the same feed twice
changes nothing and records nothing new. What a feed may not do (move a final
game back to scheduled, announce a starter for a game nobody scheduled or for a
team not in the game) is returned as a `FeedIssue` and stored as one; the rest
of the batch is still recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, func, select, update

from bullpen.domain.schedule import (
    FeedIssue,
    FinalScore,
    GameStatus,
    LifecycleError,
    ScheduledGame,
    StarterAnnouncement,
    next_status,
)
from bullpen.store._sql import as_date, as_utc, chunks, insert_new, typed_frame, upsert
from bullpen.store.live_schema import feed_issues, final_scores, publications, schedule, starters
from bullpen.store.schema import games, utcnow

CHUNK_SIZE = 500
SIDES = ("home", "away")


@dataclass
class ScheduleChanges:
    """What one `record_schedule` call changed, by game id."""

    added: list[str] = field(default_factory=list)
    status_changed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # first pitch or date changed
    unchanged: int = 0
    issues: list[FeedIssue] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return sorted({*self.added, *self.status_changed, *self.moved})


def record_schedule(engine: Engine, batch: Sequence[ScheduledGame]) -> ScheduleChanges:
    """Upsert `batch` by game id, following the lifecycle; refused moves become issues."""
    changes = ScheduleChanges()
    with engine.begin() as conn:
        current = schedule_rows(conn, [g.game_id for g in batch])
        final = logged_ids(conn, [g.game_id for g in batch])
        rows: dict[str, dict[str, Any]] = {}
        for game in batch:
            if game.game_id in rows:  # PostgreSQL refuses one upsert naming a key twice
                changes.issues.append(FeedIssue(
                    game.source, game.game_id, f"{game.game_id} twice in one batch", repr(game)
                ))  # fmt: skip
                continue
            row = _schedule_row(game, current.get(game.game_id), game.game_id in final, changes)
            if row is not None:
                rows[game.game_id] = row
        for chunk in chunks(list(rows.values()), CHUNK_SIZE):
            upsert(conn, schedule, chunk, ["game_id"])
        _store_issues(conn, changes.issues)
    return changes


def _schedule_row(
    game: ScheduledGame, before: dict[str, Any] | None, is_final: bool, changes: ScheduleChanges
) -> dict[str, Any] | None:
    old = GameStatus(before["status"]) if before else None
    if before and (before["home"], before["away"]) != (game.home, game.away):
        reason = (f"{game.game_id}: the feed says {game.away}@{game.home}, the schedule has "
                  f"{before['away']}@{before['home']}")  # fmt: skip
        changes.issues.append(FeedIssue(game.source, game.game_id, reason, repr(game)))
        return None
    try:
        # A game the logs have is final whatever the feed says: a schedule file is the
        # plan made before the season, and a live feed may lag the result.
        status = GameStatus.FINAL if is_final else next_status(old, game.status)
    except LifecycleError as exc:
        changes.issues.append(
            FeedIssue(game.source, game.game_id, f"{game.game_id}: {exc}", repr(game))
        )
        return None
    row = {
        "game_id": game.game_id, "date": game.date, "game_number": game.game_number,
        "season": game.season, "home": game.home, "away": game.away,
        "home_league": game.home_league, "away_league": game.away_league,
        "day_night": game.day_night, "first_pitch": game.first_pitch, "status": status.value,
        "postponed_reason": game.postponed_reason, "makeup_date": game.makeup_date,
        "location": game.location, "external_id": game.external_id, "source": game.source,
        "updated_at": utcnow(),
    }  # fmt: skip
    _classify(row, before, changes)
    return row


def _classify(row: dict[str, Any], before: dict[str, Any] | None, changes: ScheduleChanges) -> None:
    game_id = row["game_id"]
    if before is None:
        changes.added.append(game_id)
        return
    if before["status"] != row["status"]:
        changes.status_changed.append(game_id)
    elif as_date(before["date"]) != row["date"] or _utc(before["first_pitch"]) != _utc(
        row["first_pitch"]
    ):
        changes.moved.append(game_id)
    else:
        changes.unchanged += 1


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else as_utc(value)


def schedule_rows(conn: Connection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The schedule rows of `ids` that exist, by game id."""
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(list(dict.fromkeys(ids)), CHUNK_SIZE):
        stmt = select(schedule).where(schedule.c.game_id.in_(chunk))
        found.update({row.game_id: dict(row._mapping) for row in conn.execute(stmt)})
    return found


def logged_ids(conn: Connection, ids: Sequence[str]) -> set[str]:
    """Those of `ids` the game logs have: final, whatever a feed says."""
    final: set[str] = set()
    for chunk in chunks(list(dict.fromkeys(ids)), CHUNK_SIZE):
        final.update(
            conn.execute(select(games.c.game_id).where(games.c.game_id.in_(chunk))).scalars()
        )
    return final


def mark_final(engine: Engine, game_ids: Iterable[str]) -> int:
    """Scheduled or suspended games whose results arrived become final; returns how many."""
    with engine.begin() as conn:
        return finalize(conn, game_ids)


def finalize(conn: Connection, game_ids: Iterable[str]) -> int:
    """`mark_final` inside the caller's transaction (loading a game log calls it)."""
    moved = 0
    for chunk in chunks(sorted(set(game_ids)), CHUNK_SIZE):
        stmt = (
            update(schedule)
            .where(schedule.c.game_id.in_(chunk), schedule.c.status != GameStatus.FINAL.value)
            .values(status=GameStatus.FINAL.value, updated_at=utcnow())
        )
        moved += conn.execute(stmt).rowcount
    return moved


# --- starters ----------------------------------------------------------------------------


def record_starters(
    engine: Engine, batch: Sequence[StarterAnnouncement]
) -> tuple[list[StarterAnnouncement], list[FeedIssue]]:
    """Append the announcements that change a side's current starter; returns (changes, issues).

    An announcement for a game the schedule does not have, for a final game, or whose
    team is not that side's team is an issue. Repeating the current starter is a no-op.
    """
    changed: list[StarterAnnouncement] = []
    issues: list[FeedIssue] = []
    with engine.begin() as conn:
        games_of = schedule_rows(conn, [a.game_id for a in batch])
        current = _current_starters(conn, list(games_of))
        for item in sorted(batch, key=lambda a: a.announced_at):
            problem = _starter_problem(item, games_of.get(item.game_id))
            if problem:
                issues.append(FeedIssue(item.source, f"{item.game_id}:{item.side}", problem,
                                        repr(item)))  # fmt: skip
                continue
            key = (item.game_id, item.side)
            if current.get(key) == (item.pitcher_id, item.pitcher_name):
                continue
            conn.execute(starters.insert().values(**_starter_row(item)))
            current[key] = (item.pitcher_id, item.pitcher_name)
            changed.append(item)
        _store_issues(conn, issues)
    return changed, issues


def _starter_problem(item: StarterAnnouncement, game: dict[str, Any] | None) -> str | None:
    if item.side not in SIDES:
        return f"side must be home or away, got {item.side!r}"
    if game is None:
        return f"no scheduled game {item.game_id}"
    if game["status"] == GameStatus.FINAL.value:
        return f"{item.game_id} is final: its starters are in the game log"
    if game[item.side] != item.team:
        return f"{item.pitcher_name} announced for {item.team}, but the {item.side} team of " + (
            f"{item.game_id} is {game[item.side]}"
        )
    return None


def _starter_row(item: StarterAnnouncement) -> dict[str, Any]:
    return {
        "game_id": item.game_id, "side": item.side, "pitcher_id": item.pitcher_id,
        "pitcher_name": item.pitcher_name, "team": item.team,
        "announced_at": item.announced_at, "source": item.source, "recorded_at": utcnow(),
    }  # fmt: skip


def _current_starters(
    conn: Connection, ids: Sequence[str]
) -> dict[tuple[str, str], tuple[str | None, str]]:
    """(game_id, side) → (pitcher_id, pitcher_name) of the latest announcement."""
    latest: dict[tuple[str, str], tuple[str | None, str]] = {}
    for chunk in chunks(list(ids), CHUNK_SIZE):
        stmt = (
            select(
                starters.c.game_id, starters.c.side, starters.c.pitcher_id, starters.c.pitcher_name
            )
            .where(starters.c.game_id.in_(chunk))
            .order_by(starters.c.announced_at, starters.c.id)
        )
        for row in conn.execute(stmt):
            latest[(row.game_id, row.side)] = (row.pitcher_id, row.pitcher_name)
    return latest


def read_starter_history(engine: Engine, game_id: str) -> pd.DataFrame:
    """Every announcement of `game_id`, oldest first."""
    stmt = (
        select(starters)
        .where(starters.c.game_id == game_id)
        .order_by(starters.c.announced_at, starters.c.id)
    )
    with engine.connect() as conn:
        return typed_frame(pd.read_sql(stmt, conn), starters)


# --- reads -------------------------------------------------------------------------------


def read_schedule(
    engine: Engine,
    on: dt.date | None = None,
    season: int | None = None,
    statuses: Iterable[GameStatus] | None = None,
) -> pd.DataFrame:
    """Schedule rows with each side's current starter (`home_sp_id`, `home_sp_name`, …).

    A side with no announcement, or an unmatched one, has `*_sp_id` "" (the unknown
    starter, priced with the debut prior of `bullpen.domain.starter_form`). Sorted by
    date, game_number, game_id.
    """
    stmt = select(schedule)
    if on is not None:
        stmt = stmt.where(schedule.c.date == as_date(on))
    if season is not None:
        stmt = stmt.where(schedule.c.season == season)
    if statuses is not None:
        stmt = stmt.where(schedule.c.status.in_([s.value for s in statuses]))
    stmt = stmt.order_by(schedule.c.date, schedule.c.game_number, schedule.c.game_id)
    with engine.connect() as conn:
        frame = typed_frame(pd.read_sql(stmt, conn), schedule)
        current = _current_starters(conn, list(frame["game_id"]))
    for side in SIDES:
        announced = [current.get((g, side), (None, "")) for g in frame["game_id"]]
        frame[f"{side}_sp_id"] = [pitcher or "" for pitcher, _ in announced]
        frame[f"{side}_sp_name"] = [name for _, name in announced]
    return frame


def read_feed_issues(engine: Engine) -> pd.DataFrame:
    stmt = select(feed_issues).order_by(feed_issues.c.source, feed_issues.c.location)
    with engine.connect() as conn:
        return typed_frame(pd.read_sql(stmt, conn), feed_issues)


def record_feed_issues(engine: Engine, issues: Sequence[FeedIssue]) -> int:
    with engine.begin() as conn:
        _store_issues(conn, issues)
    return len(issues)


def _store_issues(conn: Connection, issues: Sequence[FeedIssue]) -> None:
    rows = {
        (i.source, i.location): {
            "source": i.source[:255],
            "location": i.location[:128],
            "reason": i.reason,
            "text": i.text,
            "quarantined_at": utcnow(),
        }
        for i in issues
    }
    for chunk in chunks(list(rows.values()), CHUNK_SIZE):
        upsert(conn, feed_issues, chunk, ["source", "location"])


def read_pitchers(engine: Engine) -> list[tuple[str, str, str, dt.date]]:
    """Every starting pitcher the game logs have, once per team he started for:
    (id, name, team, last date he started for it), sorted."""
    latest: dict[tuple[str, str], tuple[str, dt.date]] = {}
    with engine.connect() as conn:
        for side in SIDES:
            sp_id, sp_name = games.c[f"{side}_sp_id"], games.c[f"{side}_sp_name"]
            team = games.c[side]
            stmt = select(sp_id, func.max(sp_name), team, func.max(games.c.date)).group_by(
                sp_id, team
            )
            for pitcher, name, club, last in conn.execute(stmt):
                seen = latest.get((pitcher, club))
                if pitcher and (seen is None or as_date(last) > seen[1]):
                    latest[(pitcher, club)] = (name, as_date(last))
    return sorted((p, name, club, last) for (p, club), (name, last) in latest.items())


# --- publications ------------------------------------------------------------------------


def record_publications(engine: Engine, rows: Sequence[dict[str, Any]]) -> int:
    """Freeze published prices; a (game, model, inputs) already published keeps its first
    time. Returns how many were new."""
    with engine.begin() as conn:
        return insert_new(conn, publications, rows, ["game_id", "model_version", "inputs_hash"])


def read_publications(engine: Engine, season: int | None = None) -> pd.DataFrame:
    stmt = select(publications).order_by(publications.c.published_at, publications.c.id)
    if season is not None:
        first, last = dt.date(season, 1, 1), dt.date(season, 12, 31)
        stmt = stmt.where(publications.c.date >= first, publications.c.date <= last)
    with engine.connect() as conn:
        return typed_frame(pd.read_sql(stmt, conn), publications)


# --- final scores from schedule feeds ----------------------------------------------------


def record_finals(engine: Engine, finals: Sequence[FinalScore]) -> list[str]:
    """Store feed-reported final scores of scheduled games and make those games final;
    returns the ids that became final now (re-reports change nothing). Games the game logs
    have are left to them."""
    if not finals:
        return []
    with engine.begin() as conn:
        known = schedule_rows(conn, [f.game_id for f in finals])
        logged = logged_ids(conn, list(known))
        rows = [
            {"game_id": f.game_id, "home_score": f.home_score, "away_score": f.away_score,
             "source": f.source, "reported_at": utcnow()}
            for f in finals if f.game_id in known and f.game_id not in logged
        ]  # fmt: skip
        for chunk in chunks(rows, CHUNK_SIZE):
            upsert(conn, final_scores, chunk, ["game_id"], keep=["reported_at"])
        finalize(conn, [r["game_id"] for r in rows])
    return [r["game_id"] for r in rows if known[r["game_id"]]["status"] != GameStatus.FINAL.value]


def read_finals(engine: Engine, season: int) -> pd.DataFrame:
    """Feed-reported final scores of a season's games: game_id, home_score, away_score."""
    prefix_dates = select(schedule.c.game_id).where(schedule.c.season == season)
    stmt = select(final_scores.c.game_id, final_scores.c.home_score, final_scores.c.away_score)
    stmt = stmt.where(final_scores.c.game_id.in_(prefix_dates))
    with engine.connect() as conn:
        return pd.read_sql(stmt, conn)
