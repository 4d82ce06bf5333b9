"""The revision pointers: which revision of each date's inputs the cache serves.

A date's revision (`bullpen.domain.inputs.date_revision`) is read from the store's
features; warming writes a date's values under it and then points
``bp:v1:rev:{feature_version}:{yyyymmdd}`` at it (values before the pointer, as
for the model pointer), and a pointer that changed is published on
``bp:v1:inputs-changed`` so every server drops its cached copy of that date's
revision at once. The API reads the same pointer and, when it is missing,
computes it from the store and sets it only if still absent (`claim`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine

from bullpen.cache.contract import INPUTS_CHANGED_CHANNEL, changed_message, revision_key
from bullpen.store import read_revision


def revisions(engine: Engine, feature_version: str, days: Iterable[dt.date]) -> dict[dt.date, str]:
    return {day: read_revision(engine, feature_version, day) for day in sorted(set(days))}


def point(redis: Any, feature_version: str, revs: Mapping[dt.date, str], ttl: int) -> list[dt.date]:
    """Set each date's pointer; publish and return the dates whose revision changed."""
    changed = []
    for day, revision in sorted(revs.items()):
        old = redis.set(revision_key(feature_version, day), revision, ex=ttl, get=True)
        if old is None or _text(old) != revision:
            redis.publish(INPUTS_CHANGED_CHANNEL, changed_message(feature_version, day))
            changed.append(day)
    return changed


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
