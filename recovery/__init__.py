"""Recovery drills: destroy a private PostgreSQL or Redis Cluster, restore it, and check it.

`recovery.postgres_drill` restores a base backup plus archived WAL to a point in time;
`recovery.redis_drill` kills and restarts an AOF-persisted Redis Cluster and re-warms it.
Both run only private servers on free loopback ports (`bench.loopback`), never the
machine's shared PostgreSQL or Redis; `scripts/drill-postgres` and `scripts/drill-redis`
run them, and RUNBOOK.md records what they measured.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


class Stopwatch:
    """Named durations in seconds, measured with the monotonic clock."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = round(time.monotonic() - start, 3)


def table(title: str, rows: Sequence[tuple[str, object]]) -> str:
    """A two-column plain-text table, for a person reading a drill's output."""
    width = max(len(name) for name, _ in rows)
    lines = [title, "-" * len(title)]
    lines += [f"{name.ljust(width)}  {value}" for name, value in rows]
    return "\n".join(lines)
