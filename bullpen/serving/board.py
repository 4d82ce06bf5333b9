"""Boards in the cache: built from the served predictions and the store's latest lines.

A date's board key carries the date's prediction revision and its odds revision
(`bullpen.cache.contract.board_key`), so it is written beside the predictions when a
date is warmed (`warm_boards`, called by `bullpen.serving.warming.warm_model`) and
again when new lines arrive (`bullpen.serving.odds`). The odds pointers move after
the boards they name and are published like the prediction revisions, so every
replica's near-cache follows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine

from bullpen.cache import contract
from bullpen.cache.contract import ODDS_REVISION, ActiveModel
from bullpen.cache.writer import write_entries
from bullpen.domain.board import board_body
from bullpen.domain.market import odds_revision
from bullpen.serving.revisions import point
from bullpen.store.odds import latest_odds

Row = Mapping[str, Any]


def prediction_bodies(
    rows: Iterable[Row], active: ActiveModel, trained_until: dt.date | None
) -> dict[dt.date, list[dict[str, Any]]]:
    """The served bodies of prediction rows, by date (what the day slate holds)."""
    by_date: dict[dt.date, list[dict[str, Any]]] = {}
    for row in rows:
        body = contract.prediction_body(
            row, active.model_version, active.feature_version, cached=True,
            trained_until=trained_until,
        )  # fmt: skip
        by_date.setdefault(dt.date.fromisoformat(body["date"]), []).append(body)
    return {day: sorted(games, key=lambda g: g["game_id"]) for day, games in by_date.items()}


def warm_boards(
    engine: Engine,
    redis: Any,
    active: ActiveModel,
    bodies: Mapping[dt.date, list[dict[str, Any]]],
    revs: Mapping[dt.date, str],
    ttl: int,
) -> dict[dt.date, str]:
    """Write each date's board under its revisions; returns the odds revisions, for the
    caller to point once the predictions' own pointers have moved (`point_odds`)."""
    entries: dict[str, bytes] = {}
    odds_revs: dict[dt.date, str] = {}
    for day, games in sorted(bodies.items()):
        books = latest_odds(engine, day)
        odds_revs[day] = odds_revision(books)
        body = board_body(day, active.model_version, games, books)
        key = contract.board_key(
            active.model_version, active.feature_version, day, revs[day], odds_revs[day]
        )
        entries[key] = contract.encode(body)
    write_entries(redis, entries, ttl)
    return odds_revs


def stored_odds_revision(engine: Engine, day: dt.date) -> str:
    """The odds revision of `day` from the store: what its pointer names once warmed."""
    return odds_revision(latest_odds(engine, day))


def point_odds(redis: Any, odds_revs: Mapping[dt.date, str], ttl: int) -> list[dt.date]:
    """Move (and publish) each date's odds pointer; the dates whose lines changed."""
    return point(redis, ODDS_REVISION, odds_revs, ttl)
