"""The serving partitions: one per date that has games, not one per calendar day.

Dates join as the data names them: every date of the game logs when `games` loads
them, every date of a schedule the live sensors apply, and today when the daily
schedule finds games on it (`add_game_dates`). The partition key is the date,
`YYYY-MM-DD`, on MLB's clock (US Eastern).
"""

import datetime as dt
from collections.abc import Iterable

from dagster import DagsterInstance, DynamicPartitionsDefinition

GAME_DATES = "game_dates"
game_dates = DynamicPartitionsDefinition(name=GAME_DATES)


def add_game_dates(instance: DagsterInstance, dates: Iterable[dt.date]) -> list[str]:
    """Register the dates not registered yet; returns them."""
    keys = sorted({d.isoformat() for d in dates})
    known = set(instance.get_dynamic_partitions(GAME_DATES)) if keys else set()
    new = [k for k in keys if k not in known]
    if new:
        instance.add_dynamic_partitions(GAME_DATES, new)
    return new
