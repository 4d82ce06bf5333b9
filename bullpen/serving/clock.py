"""The live loop's clock: the real one, or a replay's simulated time.

Publication times (what the scorecard compares with first pitch) and announcement
times come from here. A season replay writes its simulated time to the file named by
`BULLPEN_LIVE_CLOCK_FILE`; a file that is missing or unreadable is an error, never a
silent fallback to the real clock (which would grade every replayed price as late).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bullpen.settings import get_settings


class ClockError(RuntimeError):
    """The simulated clock's file cannot be read."""


def now(clock_file: Path | None = None) -> dt.datetime:
    path = clock_file or get_settings().live.clock_file
    if path is None:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(Path(path).read_text().strip())
    except (OSError, ValueError) as exc:
        raise ClockError(f"simulated clock {path}: {exc}") from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
