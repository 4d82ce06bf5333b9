"""The live feeds: a folder an operator (or the replay) drops files into, and the MLB Stats
API's schedule when a URL is configured."""

import datetime as dt
from zoneinfo import ZoneInfo

from dagster import ConfigurableResource
from pydantic import Field

from bullpen.settings import LiveSettings
from bullpen.sources.mlb_stats import StatsApiClient
from bullpen.sources.odds_api import OddsApiClient


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
    odds_dir: str = Field(
        default_factory=lambda: str(LiveSettings().odds_dir),
        description="Folder of odds files: The Odds API JSON or the odds CSV "
        "(BULLPEN_LIVE_ODDS_DIR).",
    )
    odds_price_format: str = Field(
        default_factory=lambda: LiveSettings().odds_price_format,
        description="decimal or american: how The Odds API JSON writes prices.",
    )
    odds_api_url: str | None = Field(
        default_factory=lambda: LiveSettings().odds_api_url,
        description="The Odds API base URL; unset, it is not polled (BULLPEN_LIVE_ODDS_API_URL). "
        "The key is read from BULLPEN_LIVE_ODDS_API_KEY when polling, never kept in config.",
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

    def odds_client(self) -> OddsApiClient | None:
        if not self.odds_api_url:
            return None
        secret = LiveSettings().odds_api_key
        key = secret.get_secret_value() if secret else ""
        return OddsApiClient(self.odds_api_url, key, self.odds_price_format)
