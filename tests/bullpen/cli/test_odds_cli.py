"""`bullpen odds import` and `bullpen edges`: idempotent imports, issues with their location,
the board as JSON (the document `GET /v1/edges` returns). FIXTURE prices: not market data."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine
from typer.testing import CliRunner

from bullpen.cli.main import app
from bullpen.domain.schedule import EASTERN
from bullpen.serving.refresh import refresh
from bullpen.sources.parsed import ParsedLogs
from bullpen.store import register_model
from bullpen.store.live import read_schedule
from tests.support.data import elo_entry
from tests.support.live import store_before
from tests.support.odds import BOOKS, bookmaker, event, spread_prices
from tests.support.promotion import make_active
from tests.support.redis_db import PROMOTION_URL

DAY = dt.date(2022, 4, 20)
AT = dt.datetime.combine(DAY, dt.time(9), tzinfo=EASTERN).astimezone(dt.UTC)
runner = CliRunner()
SIDE_FIELDS = {"best_decimal", "best_book", "consensus_p", "model_p", "edge", "ev", "kelly"}


@pytest.fixture
def store(tmp_path: Path, logs2022: ParsedLogs) -> Iterator[tuple[Engine, str]]:
    engine = store_before(tmp_path / "store.db", logs2022, DAY, (DAY,))
    yield engine, str(engine.url)
    engine.dispose()


def _odds_file(engine: Engine, path: Path) -> Path:
    games = read_schedule(engine, on=DAY)
    events = []
    for i, g in enumerate(games.itertuples()):
        if g.game_number:  # the day's doubleheader stays without odds
            continue
        books = [bookmaker(BOOKS[b], g.home, g.away, *spread_prices(i, b), AT) for b in range(3)]
        events.append(
            event(g.home, g.away, dt.datetime.combine(DAY, dt.time(19, 5), tzinfo=EASTERN), books)
        )
    events.append(event("SEA", "TEX", AT, []) | {"home_team": "Nowhere Nine"})
    path.write_text(json.dumps(events))
    return path


def test_import_twice_stores_once_and_names_what_it_quarantined(
    store: tuple[Engine, str], tmp_path: Path
) -> None:
    engine, url = store
    args = ["odds", "import", str(_odds_file(engine, tmp_path / "odds.json")), "--database-url",
            url]  # fmt: skip
    first, again = runner.invoke(app, args), runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    singles = int((read_schedule(engine, on=DAY)["game_number"] == 0).sum())
    assert f"{3 * singles} lines, {3 * singles} new snapshots, 0 already stored, 1 quarantined" \
        in first.output  # fmt: skip
    assert "quarantined: odds.json [" in first.output and "unknown team" in first.output
    assert f"0 new snapshots, {3 * singles} already stored" in again.output


def test_a_bad_format_and_a_missing_file_are_refused(store: tuple[Engine, str]) -> None:
    _, url = store
    bad = runner.invoke(app, ["odds", "import", "x.json", "--format", "xml", "--database-url", url])
    assert bad.exit_code == 2 and "--format must be one of the-odds-api, csv" in bad.output
    gone = runner.invoke(app, ["odds", "import", "/nowhere.json", "--database-url", url])
    assert gone.exit_code == 2 and "no such file" in gone.output


@pytest.mark.integration
def test_edges_json_is_the_board(
    store: tuple[Engine, str], tmp_path: Path, cache: redis.Redis,
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None,
) -> None:  # fmt: skip
    engine, url = store
    monkeypatch.setenv("BULLPEN_REDIS_URL", PROMOTION_URL)
    entry = register_model(engine, elo_entry())
    make_active(engine, cache, entry.version)
    refresh(engine, cache, [DAY], ttl=600)
    imported = runner.invoke(app, ["odds", "import", str(_odds_file(engine, tmp_path / "o.json")),
                                   "--database-url", url])  # fmt: skip
    assert f"{DAY}: board warmed for {entry.version}" in imported.output, imported.output

    shown = runner.invoke(app, ["edges", "--date", DAY.isoformat(), "--json", "--database-url",
                                url])  # fmt: skip
    board = json.loads(shown.output)
    assert set(board) == {"date", "model_version", "games"}
    assert board["model_version"] == entry.version
    priced = [g for g in board["games"] if g["sides"] is not None]
    assert len(board["games"]) == len(read_schedule(engine, on=DAY)) > len(priced) > 0
    for game in priced:
        assert set(game) == {"game_id", "home", "away", "sides"}
        assert all(set(side) == SIDE_FIELDS for side in game["sides"].values())
    evs = [max(s["ev"] for s in g["sides"].values()) for g in priced]
    assert evs == sorted(evs, reverse=True)
    table = runner.invoke(app, ["edges", "--date", DAY.isoformat(), "--database-url", url])
    assert priced[0]["game_id"] in table.output and "no odds" in table.output
    capped = runner.invoke(app, ["edges", "--date", "2022-04-20", "--kelly-cap", "2",
                                 "--database-url", url])  # fmt: skip
    assert capped.exit_code == 2 and "Kelly cap must be in [0, 1]" in capped.output
