"""A private deployment for the replay, on loopback: the real pieces, nothing shared.

* a SQLite store holding the game logs of the history seasons and of the replayed
  season up to its first replayed day, their pre-game features, and a blend trained
  on them, promoted through the audited lifecycle (checked → warming → active);
* a private redis-server;
* `dagster-daemon` on this repository's Definitions, so the live sensors tick as in
  `scripts/run` (every second here), reading the replay's feed folder;
* N uvicorn processes of the API (`online.app:app`), the replicas a bettor polls.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.loopback import PROJECT_ROOT, redis_server, stop_process, uvicorn
from bullpen.cache.clients import sync_client
from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION, build_features
from bullpen.domain.gamelogs import ParseResult
from bullpen.domain.inputs import INPUT_COLUMNS, with_inputs
from bullpen.domain.model import train_blend
from bullpen.domain.training import labelled, training_seasons
from bullpen.serving import active
from bullpen.serving.gates import holdout_start
from bullpen.serving.lifecycle import Status, transition
from bullpen.settings import RedisSettings, get_settings
from bullpen.sources.parsed import read_gamelogs
from bullpen.store import ModelEntry, load_parse_result, make_engine, register_model, upgrade
from bullpen.store.apikeys import create_key

SECRET = "replay-secret"
ACTOR = "replay"
NO_RATE_LIMIT = {"BULLPEN_RATE_LIMIT_PER_S": "100000", "BULLPEN_RATE_LIMIT_BURST": "100000"}


@dataclass
class Deployment:
    store_url: str
    redis_url: str
    feed_dir: Path
    api_urls: list[str]
    api_key: str
    dagster_home: Path
    model_version: str
    clock_file: Path
    env: dict[str, str]


def prepare_store(
    url: str, gamelogs_dir: Path, seasons: range, start: object, threads: int = 2
) -> str:
    """Load the games before `start`, build their features, train and register a blend;
    returns its version (registered `trained`)."""
    upgrade(url)
    engine = make_engine(url)
    try:
        logs = read_gamelogs(gamelogs_dir, seasons)
        for parsed in logs.files:
            before = [g for g in parsed.result.games if g.date < start]
            load_parse_result(engine, parsed.file.name, ParseResult(before, []), "replay")
        games = logs.frame()
        games = games[games["date"] < str(start)].reset_index(drop=True)
        features = with_inputs(build_features(games), games, FEATURE_NAMES)
        from bullpen.store import write_features

        write_features(engine, features[["game_id", "date", *FEATURE_NAMES, *INPUT_COLUMNS]],
                       FEATURE_VERSION)  # fmt: skip
        return _register_blend(engine, features, games, start, threads)
    finally:
        engine.dispose()


def _register_blend(engine, features, games, start, threads: int) -> str:
    """The first model, trained as `training_set` trains a candidate: the last weeks held out,
    so the weekly retrain's checks have a window neither model trained on."""
    seasons = training_seasons(sorted(int(s) for s in games["season"].unique()), 9999)
    train = labelled(features[features["season"].isin(seasons)], games)
    holdout = holdout_start(train["date"], get_settings().promotion.holdout_days)
    train = train[train["date"] < str(holdout)].reset_index(drop=True)
    model = train_blend(train, threads=threads)
    version = f"replay-blend-{start:%Y%m%d}"
    register_model(engine, ModelEntry(
        version=version, name="bullpen-win-probability", kind=model.kind,
        train_seasons_from=min(seasons), train_seasons_to=max(seasons),
        feature_version=FEATURE_VERSION, feature_names=list(FEATURE_NAMES),
        metrics={}, params={"train_until": holdout.isoformat()}, artifact=model.to_bytes(),
    ))  # fmt: skip
    return version


def serve_model(store_url: str, redis_url: str, version: str) -> None:
    """Through the audited lifecycle, as a promotion does (the replay's model is not checked
    against a blue: there is none yet)."""
    engine = make_engine(store_url)
    client = sync_client(RedisSettings(redis_url=redis_url))
    try:
        transition(engine, version, Status.CHECKED, ACTOR, "trained by the replay before day 1")
        active.begin_warming(engine, version, ACTOR)
        active.promote(engine, client, version, ACTOR, "the replay's first model")
    finally:
        client.close()
        engine.dispose()


def environment(
    store_url: str, redis_url: str, feed_dir: Path, home: Path, clock_file: Path
) -> dict[str, str]:
    return {
        "BULLPEN_LIVE_CLOCK_FILE": str(clock_file),
        "BULLPEN_DATABASE_URL": store_url,
        "BULLPEN_REDIS_URL": redis_url,
        "BULLPEN_API_KEY_SECRET": SECRET,
        "BULLPEN_LIVE_FEED_DIR": str(feed_dir),
        "BULLPEN_LIVE_SENSOR_INTERVAL_S": "1",
        "BULLPEN_MIGRATE_ON_START": "false",
        "BULLPEN_PROMOTION_SENSOR_INTERVAL_S": "5",
        "DAGSTER_HOME": str(home),
        **NO_RATE_LIMIT,
    }


@contextlib.contextmanager
def daemon(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`dagster-daemon run` on this repository's workspace until the block ends."""
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    binary = Path(sys.executable).parent / "dagster-daemon"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(binary), "run", "-w", "workspace.yaml"], cwd=PROJECT_ROOT,
            env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield proc
        finally:
            stop_process(proc, timeout=20)


def launch(deployment: Deployment, job: str) -> None:
    """Submit a run of `job` to the deployment's Dagster instance (its daemon launches it)."""
    binary = Path(sys.executable).parent / "dagster"
    subprocess.run(
        [str(binary), "job", "launch", "-w", "workspace.yaml", "-j", job], cwd=PROJECT_ROOT,
        env={**os.environ, **deployment.env}, check=True, capture_output=True, timeout=120,
    )  # fmt: skip


@contextlib.contextmanager
def deploy(
    workdir: Path, gamelogs_dir: Path, seasons: range, start: object, apis: int = 2
) -> Iterator[Deployment]:
    workdir.mkdir(parents=True, exist_ok=True)
    store_url = f"sqlite:///{workdir / 'bullpen.db'}"
    version = prepare_store(store_url, gamelogs_dir, seasons, start)
    feed_dir = workdir / "feeds"
    feed_dir.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(redis_server(workdir / "redis"))
        serve_model(store_url, redis_url, version)
        engine = make_engine(store_url)
        key, _ = create_key(engine, SECRET, "replay", "read")
        engine.dispose()
        clock_file = workdir / "clock"
        clock_file.write_text(f"{start.isoformat()}T12:00:00+00:00")
        env = environment(store_url, redis_url, feed_dir, workdir / "dagster_home", clock_file)
        stack.enter_context(daemon(env, workdir / "dagster-daemon.log"))
        urls = [stack.enter_context(uvicorn("online.app:app", env)) for _ in range(apis)]
        yield Deployment(store_url, redis_url, feed_dir, urls, key, workdir / "dagster_home",
                         version, clock_file, env)  # fmt: skip
