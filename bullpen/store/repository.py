"""Reading and writing the store: plain functions over an `Engine`.

I/O only; every computation lives in the domain modules. Writes are upserts so
any pipeline step can be re-run, and each call is one transaction so a failed
step leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, delete, func, select, update

from bullpen.domain.gamelogs import GAME_COLUMNS, GameRecord, ParseResult
from bullpen.domain.inputs import INPUT_COLUMNS, STARTER_COLUMNS, date_revision, inputs_hash
from bullpen.store._sql import (
    as_date,
    as_utc,
    chunks,
    column_dates,
    require_columns,
    require_unique,
    typed_frame,
    upsert,
)
from bullpen.store.live import finalize
from bullpen.store.live_schema import schedule
from bullpen.store.schema import (
    features,
    games,
    ingested_files,
    models,
    predictions,
    quarantine,
    utcnow,
)

# Rows per statement batch: large enough to amortise round trips, small enough
# to stay far from SQLite's and PostgreSQL's bound-parameter limits.
CHUNK_SIZE = 1000

GAME_FRAME_COLUMNS: tuple[str, ...] = tuple(c for c in GAME_COLUMNS if c != "source_line")
# What `register_model` inserts; every later status change is audited (serving.lifecycle).
NEW_STATUS = "trained"
PREDICTION_COLUMNS = (
    "game_id",
    "date",
    "home",
    "away",
    "p_home",
    "model_version",
    "feature_version",
)


ROW_COLUMNS = ("game_id", "date", "home", "away", "p_home", "computed_at", *INPUT_COLUMNS)
# The one-game reads of the API's miss path, built once: composing a statement per
# request cost more than running it.
_PREDICTION_OF_GAME = select(*(predictions.c[name] for name in ROW_COLUMNS)).where(
    predictions.c.model_version == bindparam("v"), predictions.c.game_id == bindparam("g")
)
_TEAMS_OF_GAME = select(games.c.game_id, games.c.home, games.c.away).where(
    games.c.game_id == bindparam("g")
)
_FEATURES_OF_GAME = select(
    features.c.date, features.c["values"], *(features.c[name] for name in INPUT_COLUMNS)
).where(
    features.c.feature_version == bindparam("feature_version"),
    features.c.game_id == bindparam("game_id"),
)


@dataclass(frozen=True, slots=True)
class LoadSummary:
    """What one `load_parse_result` call did. `deleted` counts games the file no longer has."""

    source: str
    games: int
    quarantined: int
    inserted: int
    updated: int
    deleted: int = 0


@dataclass(slots=True)
class ModelEntry:
    """One row of the model registry, artifact bytes included."""

    version: str
    name: str
    kind: str
    train_seasons_from: int
    train_seasons_to: int
    feature_version: str | None
    feature_names: list[str]
    metrics: dict[str, Any]
    params: dict[str, Any]
    artifact: bytes
    status: str = "trained"  # NEW_STATUS; read back from the store, never written through here
    created_at: dt.datetime | None = None  # set to now by `register_model` when None


# --- game logs -------------------------------------------------------------------------


def load_parse_result(engine: Engine, source: str, result: ParseResult, sha256: str) -> LoadSummary:
    """Store one parsed game-log file in a single transaction.

    Games are upserted by game_id and quarantined lines by (source, line_number);
    games and quarantine rows that an earlier load of `source` stored but this
    one no longer has are removed, so the store mirrors the file as it is now.
    `source` (not `QuarantinedLine.source`) keys every row. If anything fails,
    nothing from this call is written.
    """
    now = utcnow()
    game_rows = [_game_row(game, source, now) for game in result.games]
    quarantine_rows = [
        {
            "source": source,
            "line_number": q.line_number,
            "reason": q.reason,
            "text": q.text,
            "quarantined_at": now,
        }
        for q in result.quarantined
    ]
    file_row = {
        "source": source,
        "sha256": sha256,
        "games": len(game_rows),
        "quarantined": len(quarantine_rows),
        "loaded_at": now,
    }
    inserted = 0
    with engine.begin() as conn:
        # Write first: on SQLite this takes the write lock before any read, so a
        # concurrent writer makes us wait out the busy timeout instead of failing.
        upsert(conn, ingested_files, [file_row], ["source"])
        for chunk in chunks(game_rows, CHUNK_SIZE):
            inserted += _write_games_chunk(conn, chunk)
        deleted = _delete_missing(conn, games, "game_id", source, {r["game_id"] for r in game_rows})
        finalize(conn, [r["game_id"] for r in game_rows])  # the schedule's lifecycle follows
        upsert(conn, quarantine, quarantine_rows, ["source", "line_number"])
        _delete_missing(
            conn, quarantine, "line_number", source, {r["line_number"] for r in quarantine_rows}
        )
    return LoadSummary(
        source, len(game_rows), len(quarantine_rows), inserted, len(game_rows) - inserted, deleted
    )


def _game_row(game: GameRecord, source: str, loaded_at: dt.datetime) -> dict[str, Any]:
    row = {name: getattr(game, name) for name in GAME_COLUMNS}
    row["source"] = source
    row["loaded_at"] = loaded_at
    return row


def _write_games_chunk(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Upsert one batch of games; returns how many of them were new."""
    ids = [row["game_id"] for row in rows]
    existing = conn.execute(
        select(func.count()).select_from(games).where(games.c.game_id.in_(ids))
    ).scalar_one()
    upsert(conn, games, rows, ["game_id"])
    return len(rows) - existing


def _delete_missing(conn: Connection, table: Any, key: str, source: str, keep: set[Any]) -> int:
    """Delete rows of `source` whose `key` is not in `keep`; returns how many."""
    stored = conn.execute(select(table.c[key]).where(table.c.source == source)).scalars()
    stale = [value for value in stored if value not in keep]
    for chunk in chunks(stale, CHUNK_SIZE):
        conn.execute(delete(table).where(table.c.source == source, table.c[key].in_(chunk)))
    return len(stale)


def read_games(
    engine: Engine,
    seasons: Iterable[int] | None = None,
    before: dt.date | None = None,
    on: dt.date | None = None,
) -> pd.DataFrame:
    """Games as a frame of the `GameRecord` columns minus `source_line`.

    `before` is exclusive (games strictly earlier), `on` selects one day. Sorted
    by date, game_number, game_id; `date` is datetime64, `outs` nullable Int64.
    """
    stmt = select(*(games.c[name] for name in GAME_FRAME_COLUMNS))
    if seasons is not None:
        stmt = stmt.where(games.c.season.in_(sorted(set(seasons))))
    if before is not None:
        stmt = stmt.where(games.c.date < as_date(before))
    if on is not None:
        stmt = stmt.where(games.c.date == as_date(on))
    stmt = stmt.order_by(games.c.date, games.c.game_number, games.c.game_id)
    with engine.connect() as conn:
        frame = pd.read_sql(stmt, conn)
    return typed_frame(frame, games)


def read_quarantine(engine: Engine) -> pd.DataFrame:
    """Every quarantined line, sorted by source and line number."""
    stmt = select(quarantine).order_by(quarantine.c.source, quarantine.c.line_number)
    with engine.connect() as conn:
        frame = pd.read_sql(stmt, conn)
    return typed_frame(frame, quarantine)


def read_ingested_files(engine: Engine) -> pd.DataFrame:
    """One row per loaded source file (hash, counts, when), sorted by source."""
    with engine.connect() as conn:
        frame = pd.read_sql(select(ingested_files).order_by(ingested_files.c.source), conn)
    return typed_frame(frame, ingested_files)


def ping(engine: Engine) -> None:
    """One round trip to the store (raises if it cannot answer)."""
    with engine.connect() as conn:
        conn.execute(select(1)).scalar_one()


def count_games(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(games)).scalar_one()


# --- features --------------------------------------------------------------------------


def write_features(engine: Engine, frame: pd.DataFrame, feature_version: str) -> int:
    """Upsert one feature row per game; every column but game_id, date and the inputs
    columns (`bullpen.domain.inputs.INPUT_COLUMNS`, optional) is a feature.

    Missing values (NaN/NA) are stored as JSON null. A game whose inputs hash changes
    loses its stored predictions in the same transaction: a prediction never outlives
    the inputs it was computed from. Returns the rows written.
    """
    require_columns(frame, ["game_id", "date"], "features")
    require_unique(frame, ["game_id"], "features")
    meta = ["game_id", "date", *(c for c in INPUT_COLUMNS if c in frame.columns)]
    names = [str(c) for c in frame.columns if c not in meta]
    matrix = frame[names].astype("float64").to_numpy()
    inputs = _inputs_of(frame, names, matrix)
    now = utcnow()
    rows = [
        {
            "game_id": str(game_id),
            "feature_version": feature_version,
            "date": date,
            "values": {
                name: None if math.isnan(v) else float(v)
                for name, v in zip(names, values, strict=True)
            },
            "computed_at": now,
            **context,
        }
        for game_id, date, values, context in zip(
            frame["game_id"], column_dates(frame["date"]), matrix, inputs, strict=True
        )
    ]
    with engine.begin() as conn:
        before = _inputs_hashes(conn, feature_version, [r["game_id"] for r in rows])
        for chunk in chunks(rows, CHUNK_SIZE):
            upsert(conn, features, chunk, ["game_id", "feature_version"])
        changed = {r["game_id"]: r["inputs_hash"] for r in rows
                   if before.get(r["game_id"], r["inputs_hash"]) != r["inputs_hash"]}  # fmt: skip
        _drop_outdated_predictions(conn, feature_version, changed)
    return len(rows)


def _inputs_of(frame: pd.DataFrame, names: list[str], matrix: Any) -> list[dict[str, Any]]:
    """Each row's inputs columns, the hash computed when the frame does not carry it."""
    starters = [_column_or(frame, c, None).tolist() for c in STARTER_COLUMNS]
    given = _column_or(frame, "inputs_hash", None).tolist()
    out = []
    for i, values in enumerate(matrix):
        people = [None if pd.isna(col[i]) or col[i] == "" else str(col[i]) for col in starters]
        digest = given[i] if isinstance(given[i], str) else None
        digest = digest or inputs_hash(dict(zip(names, values, strict=True)), people)
        out.append({"inputs_hash": digest, **dict(zip(STARTER_COLUMNS, people, strict=True))})
    return out


def _inputs_hashes(conn: Connection, feature_version: str, ids: Sequence[str]) -> dict[str, Any]:
    stmt = select(features.c.game_id, features.c.inputs_hash).where(
        features.c.feature_version == feature_version
    )
    return {
        row.game_id: row.inputs_hash for row in _rows_of_games(conn, stmt, features.c.game_id, ids)
    }


def _drop_outdated_predictions(conn: Connection, feature_version: str, now: dict[str, str]) -> None:
    stmt = delete(predictions).where(
        predictions.c.game_id == bindparam("g"),
        predictions.c.feature_version == feature_version,
        predictions.c.inputs_hash.is_distinct_from(bindparam("h")),
    )
    params = [{"g": game_id, "h": digest} for game_id, digest in sorted(now.items())]
    for chunk in chunks(params, CHUNK_SIZE):
        conn.execute(stmt, list(chunk))


def read_revision(engine: Engine, feature_version: str, day: dt.date) -> str:
    """The revision of `day`'s stored features (`bullpen.domain.inputs.date_revision`)."""
    stmt = select(features.c.game_id, features.c.inputs_hash).where(
        features.c.feature_version == feature_version, features.c.date == as_date(day)
    )
    with engine.connect() as conn:
        return date_revision((row.game_id, row.inputs_hash) for row in conn.execute(stmt))


def read_features(
    engine: Engine,
    feature_version: str,
    game_ids: Iterable[str] | None = None,
    on: dt.date | None = None,
    inputs: bool = False,
) -> pd.DataFrame:
    """Features of `feature_version`: game_id, date, then one float64 column per feature
    (and the `INPUT_COLUMNS` after them when `inputs`).

    Feature columns keep the order they were written in; sorted by date, game_id.
    """
    extra = [features.c[name] for name in INPUT_COLUMNS] if inputs else []
    stmt = select(features.c.game_id, features.c.date, features.c["values"], *extra).where(
        features.c.feature_version == feature_version
    )
    if on is not None:
        stmt = stmt.where(features.c.date == as_date(on))
    with engine.connect() as conn:
        rows = _rows_of_games(conn, stmt, features.c.game_id, game_ids)
    names = list(dict.fromkeys(name for row in rows for name in row.values))
    context = list(INPUT_COLUMNS) if inputs else []
    frame = pd.DataFrame.from_records(
        [{"game_id": row.game_id, "date": row.date, **row.values,
          **{c: getattr(row, c) for c in context}} for row in rows],
        columns=["game_id", "date", *names, *context],
    )  # fmt: skip
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame[names] = frame[names].astype("float64")
    return frame.sort_values(["date", "game_id"], ignore_index=True)


def read_feature_row(engine: Engine, feature_version: str, game_id: str) -> dict[str, Any] | None:
    """One game's features as ``{"game_id", "date" (a date), feature: float, ..., and the
    `INPUT_COLUMNS`}``, or None.

    The same values as that game's row of `read_features` (missing ones NaN, features in
    the order they were written) without building a DataFrame: the online miss path
    scores one game, and pandas cost ~85 % of that.
    """
    params = {"feature_version": feature_version, "game_id": game_id}
    with engine.connect() as conn:
        row = conn.execute(_FEATURES_OF_GAME, params).first()
    if row is None:
        return None
    values = {
        name: math.nan if value is None else float(value) for name, value in row.values.items()
    }
    context = {name: getattr(row, name) for name in INPUT_COLUMNS}
    return {"game_id": game_id, "date": as_date(row.date), **values, **context}


# --- model registry --------------------------------------------------------------------


def register_model(engine: Engine, entry: ModelEntry) -> ModelEntry:
    """Insert or replace the registry entry of `entry.version`; returns it as stored.

    Replacing (rather than refusing) keeps re-runs of a training step idempotent. A new
    model is `trained`; a replaced one keeps its status, which only the audited
    lifecycle (`bullpen.serving.lifecycle`) changes.
    """
    if entry.status != NEW_STATUS:
        raise ValueError(
            f"{entry.version}: a model is registered as {NEW_STATUS!r}, not {entry.status!r}; "
            "status changes go through bullpen.serving.lifecycle (audited)"
        )
    created_at = as_utc(entry.created_at) if entry.created_at else utcnow()
    row = {
        "version": entry.version,
        "name": entry.name,
        "kind": entry.kind,
        "created_at": created_at,
        "train_seasons_from": entry.train_seasons_from,
        "train_seasons_to": entry.train_seasons_to,
        "feature_version": entry.feature_version,
        "feature_names": list(entry.feature_names),
        "metrics": dict(entry.metrics),
        "params": dict(entry.params),
        "artifact": bytes(entry.artifact),
    }
    with engine.begin() as conn:
        upsert(conn, models, [row | {"status": NEW_STATUS}], ["version"], keep=["status"])
        status = conn.execute(
            select(models.c.status).where(models.c.version == entry.version)
        ).scalar_one()
    return ModelEntry(**{**row, "created_at": created_at, "status": status})


def get_model(engine: Engine, version: str) -> ModelEntry | None:
    with engine.connect() as conn:
        row = conn.execute(select(models).where(models.c.version == version)).mappings().first()
    return _model_entry(row) if row is not None else None


def list_models(engine: Engine) -> list[ModelEntry]:
    """Every registered model, newest first."""
    stmt = select(models).order_by(models.c.created_at.desc(), models.c.version.desc())
    with engine.connect() as conn:
        return [_model_entry(row) for row in conn.execute(stmt).mappings()]


def merge_model_metrics(engine: Engine, version: str, metrics: dict[str, Any]) -> None:
    """Merge `metrics` into a model's metrics; LookupError if there is no such model.

    The row is locked first (as `serving.lifecycle` does), so check results written
    at the same moment by another process are kept, not overwritten.
    """
    where = models.c.version == version
    with engine.begin() as conn:
        conn.execute(update(models).where(where).values(metrics=models.c.metrics))
        current = conn.execute(select(models.c.metrics).where(where)).scalar_one_or_none()
        if current is None:
            raise LookupError(f"no model with version {version!r}")
        conn.execute(update(models).where(where).values(metrics={**current, **metrics}))


def _model_entry(row: Any) -> ModelEntry:
    values = dict(row)
    values["created_at"] = as_utc(values["created_at"])
    values["artifact"] = bytes(values["artifact"])  # PostgreSQL returns memoryview
    return ModelEntry(**values)


# --- predictions -----------------------------------------------------------------------


def write_predictions(engine: Engine, frame: pd.DataFrame) -> int:
    """Upsert predictions by (game_id, model_version). `feature_version` and the inputs
    columns may be absent/NA; `computed_at`, when given, is kept (the time the number was
    computed), else now."""
    require_columns(frame, [c for c in PREDICTION_COLUMNS if c != "feature_version"], "predictions")
    require_unique(frame, ["game_id", "model_version"], "predictions")
    now = utcnow()
    feature_versions = _column_or(frame, "feature_version", None)
    computed = [now if pd.isna(t) else as_utc(pd.Timestamp(t).to_pydatetime())
                for t in _column_or(frame, "computed_at", None)]  # fmt: skip
    rows = [
        {
            "game_id": str(game_id),
            "date": date,
            "home": str(home),
            "away": str(away),
            "p_home": float(p_home),
            "model_version": str(model_version),
            "feature_version": None if pd.isna(feature_version) else str(feature_version),
            "computed_at": computed_at,
        }
        for game_id, date, home, away, p_home, model_version, feature_version, computed_at in zip(
            frame["game_id"],
            column_dates(frame["date"]),
            frame["home"],
            frame["away"],
            frame["p_home"],
            frame["model_version"],
            feature_versions,
            computed,
            strict=True,
        )
    ]
    inputs = {c: _column_or(frame, c, None).tolist() for c in INPUT_COLUMNS}
    for i, row in enumerate(rows):
        row.update({c: None if pd.isna(v[i]) else str(v[i]) for c, v in inputs.items()})
    with engine.begin() as conn:
        for chunk in chunks(rows, CHUNK_SIZE):
            upsert(conn, predictions, chunk, ["game_id", "model_version"])
    return len(rows)


def _column_or(frame: pd.DataFrame, name: str, default: Any) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([default] * len(frame), index=frame.index, dtype=object)


def read_predictions(
    engine: Engine, on: dt.date | None = None, model_version: str | None = None
) -> pd.DataFrame:
    """Predictions (prediction columns plus computed_at), sorted by date, game_id, model."""
    stmt = select(*(predictions.c[name] for name in PREDICTION_COLUMNS), predictions.c.computed_at)
    if on is not None:
        stmt = stmt.where(predictions.c.date == as_date(on))
    if model_version is not None:
        stmt = stmt.where(predictions.c.model_version == model_version)
    stmt = stmt.order_by(predictions.c.date, predictions.c.game_id, predictions.c.model_version)
    with engine.connect() as conn:
        frame = pd.read_sql(stmt, conn)
    return typed_frame(frame, predictions)


def read_prediction_rows(
    engine: Engine,
    model_version: str,
    game_ids: Iterable[str] | None = None,
    on: dt.date | None = None,
) -> list[dict[str, Any]]:
    """One model's stored predictions as plain dicts (`ROW_COLUMNS`), no pandas.

    The online miss path reads one game at a time; building a DataFrame would cost
    more than the query.
    """
    ids = None if game_ids is None else sorted(set(game_ids))
    with engine.connect() as conn:
        if ids is not None and len(ids) == 1 and on is None:  # the miss path: prebuilt
            rows = list(conn.execute(_PREDICTION_OF_GAME, {"v": model_version, "g": ids[0]}))
        else:
            stmt = select(*(predictions.c[name] for name in ROW_COLUMNS)).where(
                predictions.c.model_version == model_version
            )
            if on is not None:
                stmt = stmt.where(predictions.c.date == as_date(on))
            rows = _rows_of_games(conn, stmt, predictions.c.game_id, ids)
    return [dict(row._mapping) | {"computed_at": as_utc(row.computed_at)} for row in rows]


def read_teams(
    engine: Engine, game_ids: Iterable[str] | None = None, on: dt.date | None = None
) -> dict[str, tuple[str, str]]:
    """game_id → (home, away) for completed games, else from the live schedule."""
    ids = None if game_ids is None else sorted(set(game_ids))
    with engine.connect() as conn:
        found = _teams(conn, games, ids, on)
        if ids is None or len(found) < len(ids):
            rest = None if ids is None else [g for g in ids if g not in found]
            found = _teams(conn, schedule, rest, on) | found
    return found


def _teams(
    conn: Connection, table: Any, ids: list[str] | None, on: dt.date | None
) -> dict[str, tuple[str, str]]:
    if table is games and ids is not None and len(ids) == 1 and on is None:  # the miss path
        rows = list(conn.execute(_TEAMS_OF_GAME, {"g": ids[0]}))
    else:
        stmt = select(table.c.game_id, table.c.home, table.c.away)
        if on is not None:
            stmt = stmt.where(table.c.date == as_date(on))
        rows = _rows_of_games(conn, stmt, table.c.game_id, ids)
    return {row.game_id: (row.home, row.away) for row in rows}


def _rows_of_games(
    conn: Connection, stmt: Any, column: Any, game_ids: Iterable[str] | None
) -> list[Any]:
    """`stmt`'s rows, limited to `game_ids` (None: all), in batches the drivers accept."""
    if game_ids is None:
        return list(conn.execute(stmt))
    return [
        row
        for chunk in chunks(sorted(set(game_ids)), CHUNK_SIZE)
        for row in conn.execute(stmt.where(column.in_(chunk)))
    ]
