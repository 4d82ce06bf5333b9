"""The API's own documentation works on a machine without internet, and its examples are
real: every game id and date the schema offers for "Try it out" is in the bundled data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bullpen.sources.parsed import read_gamelogs
from online.app import create_app
from online.config import OnlineSettings
from online.schemas import GAME_ID_PATTERN
from tests.support.apps import core_settings

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""")


def _app(tmp_path: Path) -> Any:
    settings = core_settings(f"sqlite:///{tmp_path / 'docs.db'}", "redis://127.0.0.1:1/0")
    return create_app(settings, OnlineSettings(migrate_on_start=False))


def test_docs_pages_load_every_asset_from_this_server(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path))  # no lifespan: the pages need nothing else
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert EXTERNAL.findall(html) == [], page
        assets = re.findall(r"""(?:src|href)=["'](/[^"']+)""", html)
        assert assets, page
        for asset in assets:
            answer = client.get(asset)
            assert answer.status_code == 200 and len(answer.content) > 0, asset
    assert '"validatorUrl": null' in client.get("/docs").text  # no badge from swagger.io


def _examples(node: Any) -> list[Any]:
    """Every value under an `example` or `examples` key of the schema."""
    found: list[Any] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "examples":
                found += list(value.values()) if isinstance(value, dict) else list(value)
            elif key == "example":
                found.append(value)
            else:
                found += _examples(value)
    elif isinstance(node, list):
        for item in node:
            found += _examples(item)
    return found


def test_every_example_game_and_date_exists_in_the_bundled_data(
    tmp_path: Path, gamelogs_dir: Path
) -> None:
    schema = _app(tmp_path).openapi()
    values = [v.get("value", v) if isinstance(v, dict) else v for v in _examples(schema)]
    game_ids = {v for v in values if isinstance(v, str) and re.fullmatch(GAME_ID_PATTERN, v)}
    dates = {v for v in values if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)}
    assert game_ids and dates
    seasons = {int(g[3:7]) for g in game_ids} | {int(d[:4]) for d in dates}
    games = read_gamelogs(gamelogs_dir, seasons).games
    assert game_ids <= {g.game_id for g in games}
    assert {dt.date.fromisoformat(d) for d in dates} <= {g.date for g in games}
