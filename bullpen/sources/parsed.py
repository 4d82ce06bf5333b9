"""Game logs → parsed games: the ingestion steps shared by the CLI and Dagster."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bullpen.domain.gamelogs import (
    GameRecord,
    ParseResult,
    QuarantinedLine,
    parse_lines,
    records_frame,
)
from bullpen.sources.gamelogs import GameLogFile, GameLogSourceError, SourceScan, read_directory


@dataclass
class ParsedFile:
    file: GameLogFile
    result: ParseResult


@dataclass
class ParsedLogs:
    files: list[ParsedFile] = field(default_factory=list)
    errors: list[GameLogSourceError] = field(default_factory=list)

    @property
    def games(self) -> list[GameRecord]:
        return [g for f in self.files for g in f.result.games]

    @property
    def quarantined(self) -> list[QuarantinedLine]:
        return [q for f in self.files for q in f.result.quarantined]

    def frame(self) -> pd.DataFrame:
        return records_frame(self.games)


def parse_scan(scan: SourceScan) -> ParsedLogs:
    parsed = [ParsedFile(f, parse_lines(f.lines(), f.name)) for f in scan.files]
    return ParsedLogs(parsed, list(scan.errors))


def read_gamelogs(directory: Path, seasons: Iterable[int] | None = None) -> ParsedLogs:
    """Every game log in `directory` (GL*.TXT or gl*.zip), parsed and validated."""
    return parse_scan(read_directory(directory, seasons))
