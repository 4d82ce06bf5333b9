"""Where Retrosheet game logs come from: a local directory, or downloads from a base URL."""

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from bullpen.settings import GameLogSettings, parse_seasons
from bullpen.sources.gamelogs import SourceScan, download_gamelogs, read_directory


class GameLogSource(ConfigurableResource):
    """Where Retrosheet game logs come from: a local directory, or downloads from `base_url`."""

    gamelogs_dir: str = Field(
        default_factory=lambda: str(GameLogSettings().gamelogs_dir),
        description="Directory of GL*.TXT / gl*.zip game logs (used when base_url is unset).",
    )
    base_url: str | None = Field(
        default_factory=lambda: GameLogSettings().gamelogs_base_url,
        description="When set, gl{YEAR}.zip archives are downloaded from here into download_dir.",
    )
    download_dir: str = Field(
        default_factory=lambda: str(GameLogSettings().download_dir),
        description="Cache of downloaded archives.",
    )
    seasons: str = Field(
        default_factory=lambda: GameLogSettings().seasons,
        description="Seasons to ingest, e.g. '2000-2023' or '2019,2021'.",
    )

    def season_list(self) -> list[int]:
        return parse_seasons(self.seasons)

    def scan(self) -> SourceScan:
        """The readable game logs of the configured seasons, and what failed for the others."""
        if self.base_url:
            return download_gamelogs(self.base_url, self.season_list(), Path(self.download_dir))
        return read_directory(Path(self.gamelogs_dir), self.season_list())
