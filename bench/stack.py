"""A throwaway deployment on loopback for benchmarks and the load-test smoke test.

`prepare` builds a SQLite store from the real game logs of one season (games, pre-game
features, an Elo model in the registry ready to serve, a read API key); `warm_season`
fills a Redis with every game and slate of it and promotes the model there;
`redis_server` and `uvicorn` (from `bench.loopback`) start private processes on free
loopback ports and always stop them. Nothing here touches the shared Redis.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import redis

MODEL_VERSION = "bench-elo"
SECRET = "bench-secret"
SEASON = 2022
# No rate limit in the way of a benchmark: the limiter still runs, with a large lease.
UNLIMITED = {
    "BULLPEN_RATE_LIMIT_PER_S": "1000000",
    "BULLPEN_RATE_LIMIT_BURST": "1000000",
    "BULLPEN_RATE_LIMIT_LEASE": "1000",
}


@dataclass
class BenchData:
    db_url: str
    key: str
    games: dict[dt.date, list[str]]  # game ids by date, sorted
    rows: list[dict[str, Any]] = field(repr=False)  # predictions rows, for warming
    revisions: dict[dt.date, str] = field(default_factory=dict, repr=False)  # the store's

    def busiest_day(self) -> dt.date:
        return max(self.games, key=lambda d: (len(self.games[d]), d))

    def all_game_ids(self) -> list[str]:
        return [g for day in sorted(self.games) for g in self.games[day]]


def prepare(db_url: str, season: int = SEASON, days: int | None = None) -> BenchData:
    """Store the season's games, features (first `days` dates, or all) and an Elo model."""
    import bullpen.store.apikeys  # noqa: F401 - its table joins the metadata
    from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION, build_features
    from bullpen.domain.model import WinModel
    from bullpen.serving.active import begin_warming
    from bullpen.serving.lifecycle import Status, transition
    from bullpen.serving.predictions import score
    from bullpen.serving.revisions import revisions
    from bullpen.settings import GameLogSettings
    from bullpen.sources.parsed import read_gamelogs
    from bullpen.store import (
        ModelEntry,
        load_parse_result,
        make_engine,
        register_model,
        upgrade,
        write_features,
    )
    from bullpen.store.apikeys import create_key

    logs = read_gamelogs(GameLogSettings().gamelogs_dir, [season])
    frame = build_features(logs.frame())
    if days is not None:
        keep = sorted(frame["date"].unique())[:days]
        frame = frame[frame["date"].isin(keep)]
    frame = frame[["game_id", "date", *FEATURE_NAMES]].reset_index(drop=True)
    model = WinModel(kind="elo")
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        parsed = logs.files[0]
        load_parse_result(engine, parsed.file.name, parsed.result, parsed.file.sha256)
        write_features(engine, frame, FEATURE_VERSION)
        register_model(engine, ModelEntry(
            version=MODEL_VERSION, name="elo", kind="elo", train_seasons_from=season - 1,
            train_seasons_to=season - 1, feature_version=FEATURE_VERSION,
            feature_names=list(FEATURE_NAMES), metrics={}, params={},
            artifact=model.to_bytes(),
        ))  # fmt: skip
        # The audited path, minus the checks a benchmark model has no data for: `set_pointer`
        # promotes it once its keys are warm.
        transition(engine, MODEL_VERSION, Status.CHECKED, "bench", "benchmark baseline, unchecked")
        begin_warming(engine, MODEL_VERSION, "bench")
        key, _ = create_key(engine, SECRET, "bench", "read")
        revs = revisions(engine, FEATURE_VERSION, {d.date() for d in frame["date"]})
    finally:
        engine.dispose()
    teams = logs.frame()[["game_id", "home", "away"]]
    rows = score(model, frame.merge(teams, on="game_id")).rows
    games: dict[dt.date, list[str]] = {}
    for row in rows:
        games.setdefault(row["date"], []).append(row["game_id"])
    return BenchData(db_url, key, {d: sorted(ids) for d, ids in games.items()}, rows, revs)


def warm_season(redis_url: str, data: BenchData, promote: bool = True) -> Any:
    """Every game and slate of `data` into `redis_url`, then the Elo model promoted there."""
    from bullpen.cache.writer import warm
    from bullpen.domain.features import FEATURE_VERSION
    from bullpen.serving.revisions import point

    client = redis.Redis.from_url(redis_url)
    try:
        result = warm(client, data.rows, MODEL_VERSION, FEATURE_VERSION, data.revisions, 3600)
        point(client, FEATURE_VERSION, data.revisions, 3600)
    finally:
        client.close()
    if promote:
        set_pointer(redis_url, data)
    return result


def set_pointer(redis_url: str, data: BenchData) -> None:
    """Promote the Elo model (once; later calls only write its pointer into `redis_url`)."""
    from bullpen.serving.active import promote
    from bullpen.store import make_engine

    engine = make_engine(data.db_url)
    client = redis.Redis.from_url(redis_url)
    try:
        promote(engine, client, MODEL_VERSION, "bench")
    finally:
        client.close()
        engine.dispose()


def app_env(data: BenchData, redis_url: str, **extra: str) -> dict[str, str]:
    """Environment of a bullpen server on `data`: no migrations, no rate limit in the way."""
    return {
        "BULLPEN_DATABASE_URL": data.db_url,
        "BULLPEN_REDIS_URL": redis_url,
        "BULLPEN_API_KEY_SECRET": SECRET,
        "BULLPEN_MIGRATE_ON_START": "false",
        **UNLIMITED,
        **extra,
    }


BENCH_BOOKS = 10


def warm_fixture_boards(redis_url: str, data: BenchData, days: list[dt.date]) -> int:
    """Boards for `days` from FIXTURE lines (10 books per game, invented prices: not market
    data) under the store's revisions, and their odds pointers: the board route's read
    path to measure, like the slate's. Returns how many games have lines."""
    from bullpen.cache.contract import ActiveModel, board_key, encode
    from bullpen.domain.board import board_body
    from bullpen.domain.features import FEATURE_VERSION
    from bullpen.domain.market import odds_revision
    from bullpen.serving.board import point_odds, prediction_bodies

    active = ActiveModel(MODEL_VERSION, FEATURE_VERSION)
    wanted = {d.isoformat() for d in days}
    rows = [r for r in data.rows if str(r["date"])[:10] in wanted]
    bodies = prediction_bodies(rows, active, None)
    client = redis.Redis.from_url(redis_url)
    odds_revs, priced = {}, 0
    try:
        for day, games in bodies.items():
            at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
            snaps = [_fixture_line(g["game_id"], i, b, at) for i, g in enumerate(games)
                     for b in range(BENCH_BOOKS)]  # fmt: skip
            odds_revs[day] = odds_revision(snaps)
            key = board_key(MODEL_VERSION, FEATURE_VERSION, day, data.revisions[day],
                            odds_revs[day])  # fmt: skip
            client.set(key, encode(board_body(day, MODEL_VERSION, games, snaps)), ex=3600)
            priced += len(games)
        point_odds(client, odds_revs, 3600)
    finally:
        client.close()
    return priced


def fixture_prices(game: int, book: int) -> tuple[float, float]:
    """FIXTURE decimal prices (invented, not market data) around a 4.5 % margin, varying
    by game and book."""
    p_home = 0.40 + 0.02 * (game % 10) + 0.004 * (book % 5)
    return round(1 / (p_home * 1.045), 3), round(1 / ((1 - p_home) * 1.045), 3)


def _fixture_line(game_id: str, game: int, book: int, at: dt.datetime) -> Any:
    from bullpen.domain.market import OddsSnapshot

    return OddsSnapshot(game_id, f"book{book}", at, *fixture_prices(game, book), "bench-fixture")
