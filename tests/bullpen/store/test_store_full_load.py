"""Every bundled season loads completely; load speed is measured by a benchmark, not here."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import Engine

from bullpen.domain.gamelogs import ParseResult, parse_lines
from bullpen.settings import GameLogSettings
from bullpen.store import count_games, load_parse_result, read_games

pytestmark = pytest.mark.slow


def test_all_seasons_load(engine: Engine) -> None:
    paths = sorted(GameLogSettings().gamelogs_dir.glob("GL*.TXT"))
    if not paths:
        pytest.skip("no GL*.TXT game logs available")
    parsed: dict[str, tuple[ParseResult, str]] = {}
    for path in paths:
        data = path.read_bytes()
        result = parse_lines(data.decode("latin-1").splitlines(), path.name)
        parsed[path.name] = (result, hashlib.sha256(data).hexdigest())

    summaries = [load_parse_result(engine, name, *item) for name, item in parsed.items()]
    expected = sum(len(result.games) for result, _ in parsed.values())
    assert sum(s.inserted for s in summaries) == count_games(engine) == expected
    if "GL2019.TXT" in parsed:
        assert len(read_games(engine, seasons=[2019])) == len(parsed["GL2019.TXT"][0].games)
