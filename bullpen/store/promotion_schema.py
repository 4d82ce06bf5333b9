"""The promotion tables: an append-only audit log of model status changes, and the aliases.

`model_audit` records every transition of a model's `status` (who or what
caused it, and why) in the same transaction as the change itself, so the log
and the registry cannot disagree. `model_aliases` names the two slots of a
blue-green deployment: `blue` is the model serving traffic, `green` the other
one (the candidate while it is being promoted, the previous model after).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bullpen.store.schema import Base, Timestamp, utcnow


class ModelAudit(Base):
    """One status transition of one model; never updated or deleted."""

    __tablename__ = "model_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    # Nullable: a model's first recorded state has no predecessor.
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class ModelAlias(Base):
    """`blue` or `green` → a model version."""

    __tablename__ = "model_aliases"

    alias: Mapped[str] = mapped_column(String(16), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


model_audit = ModelAudit.__table__
model_aliases = ModelAlias.__table__
