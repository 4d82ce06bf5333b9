"""Small SQL and frame helpers shared by the repository functions.

Kept apart so `repository.py` reads as the store's API rather than plumbing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Connection, Integer, Table

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    keep: Sequence[str] = (),
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE every other given column, as one executemany.

    Columns in `keep` are inserted but never overwritten. Both supported dialects spell
    this the same way, but through their own `insert` constructs.
    """
    if not rows:
        return
    stmt = _dialect_insert(conn)(table)
    updates = {
        name: stmt.excluded[name] for name in rows[0] if name not in keys and name not in keep
    }
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=updates), rows)


def insert_new(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> int:
    """INSERT ... ON CONFLICT (keys) DO NOTHING: rows already there stay as they were.
    Returns how many were inserted."""
    if not rows:
        return 0
    insert = _dialect_insert(conn)
    stmt = insert(table).on_conflict_do_nothing(index_elements=list(keys))
    return sum(conn.execute(stmt, [row]).rowcount for row in rows)


def _dialect_insert(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - a new backend fails loudly, not silently
        raise NotImplementedError(f"no upsert for {conn.dialect.name!r}")
    return insert


def as_date(value: dt.date | dt.datetime | pd.Timestamp) -> dt.date:
    """A plain `date`; datetimes and Timestamps lose their time of day."""
    if isinstance(value, dt.datetime):  # pd.Timestamp is a datetime too
        return value.date()
    return value


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive timestamps; everything the store writes is UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def column_dates(series: pd.Series) -> list[dt.date]:
    """A frame's date column (strings, dates or datetime64) as `date` objects."""
    return list(pd.to_datetime(series).dt.date)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame is missing columns {missing}")


def require_unique(frame: pd.DataFrame, keys: list[str], what: str) -> None:
    # A batch that upserts the same key twice is ambiguous (and PostgreSQL rejects it).
    duplicated = frame.duplicated(subset=keys, keep=False)
    if duplicated.any():
        sample = frame.loc[duplicated, keys].head(3).to_dict("records")
        raise ValueError(f"{what} frame has duplicate keys {keys}, e.g. {sample}")


def typed_frame(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Give columns read from `table` stable dtypes, whatever the backend or row count.

    Dates become datetime64[ns], timestamps UTC datetime64, integers int64 (or
    nullable Int64 where the column is nullable) and floats float64.
    """
    out = frame.copy()
    for name in out.columns:
        column = table.c[name]
        python_type = _python_type(column.type)
        if python_type is dt.datetime:
            out[name] = pd.to_datetime(out[name], utc=True).astype("datetime64[ns, UTC]")
        elif python_type is dt.date:
            out[name] = pd.to_datetime(out[name]).astype("datetime64[ns]")
        elif isinstance(column.type, Integer):
            out[name] = out[name].astype("Int64" if column.nullable else "int64")
        elif python_type is float:
            out[name] = out[name].astype("float64")
    return out


def _python_type(sql_type: Any) -> type | None:
    try:
        return sql_type.python_type
    except NotImplementedError:
        return None
