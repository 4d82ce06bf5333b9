"""The `api_keys` table and the functions that create, look up and revoke keys.

Only the HMAC of a key is stored (`bullpen.domain.apikeys.hash_key`); `create_key`
returns the plain key once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, Integer, String, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from bullpen.domain.apikeys import SCOPES, generate_key, hash_key, visible_prefix
from bullpen.store._sql import as_utc
from bullpen.store.schema import Base, Timestamp, utcnow


class ApiKey(Base):
    """One API key: who it is for, what it may do, and its HMAC."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


api_keys = ApiKey.__table__


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: int
    name: str
    prefix: str
    scope: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def create_key(engine: Engine, secret: str, name: str, scope: str) -> tuple[str, KeyRecord]:
    """Store a new key's HMAC; returns the plain key (show it once) and its record."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    key = generate_key()
    row = {
        "name": name,
        "prefix": visible_prefix(key),
        "key_hash": hash_key(secret, key),
        "scope": scope,
        "created_at": utcnow(),
        "revoked_at": None,
    }
    with engine.begin() as conn:
        key_id = conn.execute(insert(api_keys).values(row).returning(api_keys.c.id)).scalar_one()
    return key, KeyRecord(key_id, name, row["prefix"], scope, row["created_at"], None)


def lookup_key(engine: Engine, key_hash: str) -> KeyRecord | None:
    """The record of the key with this HMAC (revoked or not), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash)).first()
    return _record(row) if row is not None else None


def list_keys(engine: Engine) -> list[KeyRecord]:
    with engine.connect() as conn:
        return [_record(r) for r in conn.execute(select(api_keys).order_by(api_keys.c.id))]


def revoke_key(engine: Engine, key_id: int) -> bool:
    """Revoke key `key_id`; False if there is no such active key."""
    with engine.begin() as conn:
        result = conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    return result.rowcount > 0


def _record(row: object) -> KeyRecord:
    revoked = row.revoked_at  # type: ignore[attr-defined]
    return KeyRecord(
        id=row.id,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        prefix=row.prefix,  # type: ignore[attr-defined]
        scope=row.scope,  # type: ignore[attr-defined]
        created_at=as_utc(row.created_at),  # type: ignore[attr-defined]
        revoked_at=as_utc(revoked) if revoked is not None else None,
    )
