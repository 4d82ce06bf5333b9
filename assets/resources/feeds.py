"""The live feeds: a folder an operator (or the replay) drops files into, and the MLB Stats
API's schedule when a URL is configured."""

import datetime as dt
from zoneinfo import ZoneInfo

from dagster import ConfigurableResource
from pydantic import Field

from bullpen.settings import LiveSettings
from bullpen.sources.mlb_stats import StatsApiClient


class LiveFeeds(ConfigurableResource):
    """Where game-day news comes from (defaults: the BULLPEN_LIVE_* environment)."""

    feed_dir: str = Field(
        default_factory=lambda: str(LiveSettings().feed_dir),
        description="Folder of schedule files, drop files and results (BULLPEN_LIVE_FEED_DIR).",
    )
    stats_api_url: str | None = Field(
        default_factory=lambda: LiveSettings().stats_api_url,
        description="MLB Stats API base URL; unset, it is not polled (BULLPEN_LIVE_STATS_API_URL).",
    )
    days_ahead: int = Field(
        default_factory=lambda: LiveSettings().days_ahead,
        description="Days after today whose Stats API schedule is polled.",
    )
    watch_s: float = Field(
        default_factory=lambda: LiveSettings().watch_s,
        description="How long one feed-folder tick keeps watching for files (0: one look).",
    )
    today: str | None = Field(
        default=None, description="YYYY-MM-DD taken as today (tests, replays); default: New York."
    )

    def today_date(self) -> dt.date:
        if self.today:
            return dt.date.fromisoformat(self.today)
        return dt.datetime.now(ZoneInfo("America/New_York")).date()

    def stats_client(self) -> StatsApiClient | None:
        return StatsApiClient(self.stats_api_url) if self.stats_api_url else None
