"""Re-price and re-warm the dates whose inputs changed: the live loop's one step.

A schedule change, a scratched starter or a result changes a date's inputs. For
each such date the slate is priced again by the serving model
(`bullpen.serving.pricing`) and warmed by the one recipe promotion and rollback
use (`bullpen.serving.active.warm`), which writes the new values under the
date's new revision and then moves and publishes its revision pointer: every
replica drops its cached revision and serves the new price.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from bullpen.serving.active import serving_entry, warm
from bullpen.serving.pricing import price_slate
from bullpen.serving.slate import slate
from bullpen.serving.warming import Coverage


class NothingToServe(RuntimeError):
    """No model serves yet: nothing can be priced."""


@dataclass(frozen=True)
class Refreshed:
    day: dt.date
    model_version: str
    games: int  # on the slate
    live: int  # of them not played yet
    postponed: int
    coverage: Coverage


def refresh(engine: Engine, redis: Any, days: Iterable[dt.date], ttl: int) -> list[Refreshed]:
    entry = serving_entry(engine)
    if entry is None:
        raise NothingToServe("no model serves yet: run batch_job and promote one first")
    done = []
    for day in sorted(set(days)):
        of = slate(engine, day)
        price_slate(engine, entry, of)
        covered = warm(engine, redis, entry, [day], ttl)
        done.append(
            Refreshed(day, entry.version, len(of.games), len(of.live), len(of.postponed), covered)
        )
    return done
