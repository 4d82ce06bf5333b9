"""The live loop: sensors that turn game-day news into fresh prices within seconds.

`feed_folder_sensor` reads every new file of the feed folder (a schedule, an
operator's starters or postponements, a day's results: `bullpen.serving.feeds`);
`stats_api_sensor` polls the MLB Stats API's schedule for today and the next days
when a URL is configured. Both record what changed and re-price and re-warm
exactly the dates whose slates changed (`bullpen.serving.refresh`), which moves
each date's revision and publishes it, so every API replica drops the old price.

The work is done in the sensor's tick, not in a launched run: a run costs a new
process and a code load on top of the work, more than the five seconds a scratched
starter may take to reach every replica. And the daemon evaluates a sensor at most
every 5 s (`MIN_INTERVAL_LOOP_TIME` in dagster/_daemon/sensor.py), so the feed-folder
tick keeps watching the folder for `BULLPEN_LIVE_WATCH_S` (4 s) and applies a file
within ~0.2 s of its arrival; the next tick starts as this one ends. Each tick's
outcome is recorded as a materialization of `live_slates` (the slate, the starters
that changed, how many games are served fresh), so the UI shows every change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path

from dagster import (
    AssetMaterialization,
    AssetSpec,
    DefaultSensorStatus,
    MetadataValue,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from assets.metadata import markdown_table
from assets.resources import LiveFeeds, RedisResource, StoreResource
from assets.serving.partitions import add_game_dates
from bullpen.serving import clock
from bullpen.serving.feeds import Applied, apply_batch, apply_file, file_key, pitcher_index
from bullpen.serving.refresh import NothingToServe, Refreshed, refresh
from bullpen.settings import LiveSettings
from bullpen.sources.mlb_stats import SOURCE, StatsApiError, parse_schedule_payload
from orchestration.jobs import scorecard_job

LIVE_SLATES = "live_slates"
WATCH_POLL_S = 0.2
MAX_CURSOR_DAYS = 7

live_slates = AssetSpec(
    LIVE_SLATES,
    group_name="live",
    description="Each date re-priced by the live loop: its slate, the starters that changed, "
    "and how many games are served fresh (reported by the live sensors).",
)


def _report(applied: Applied, refreshed: list[Refreshed]) -> list[AssetMaterialization]:
    starters = [(s.game_id, s.side, s.pitcher_name, s.pitcher_id or "unknown")
                for s in applied.starters_changed]  # fmt: skip
    return [
        AssetMaterialization(
            LIVE_SLATES,
            partition=None,
            metadata={
                "date": MetadataValue.text(r.day.isoformat()),
                "source": MetadataValue.text(applied.source),
                "model_version": MetadataValue.text(r.model_version),
                "games": MetadataValue.int(r.games),
                "not_played_yet": MetadataValue.int(r.live),
                "postponed": MetadataValue.int(r.postponed),
                "served_fresh": MetadataValue.int(r.coverage.present),
                "keys_expected": MetadataValue.int(r.coverage.expected),
                "starters_changed": MetadataValue.md(_starters_table(starters, r.day)),
                "feed_issues": MetadataValue.int(len(applied.issues)),
            },
        )
        for r in refreshed
    ]


def _starters_table(starters: list[tuple[str, str, str, str]], day: dt.date) -> str:
    of_day = [s for s in starters if s[0][3:11] == f"{day:%Y%m%d}"]
    return markdown_table(["game", "side", "pitcher", "id"], of_day)


def _apply_and_refresh(
    context: SensorEvaluationContext, applied: Applied, store: StoreResource, redis: RedisResource
) -> list[AssetMaterialization]:
    for issue in applied.issues[:20]:
        context.log.warning(f"quarantined {issue.source} {issue.location}: {issue.reason}")
    if not applied.dates:
        return []
    add_game_dates(context.instance, applied.dates)  # the dates become serving partitions
    try:
        refreshed = refresh(store.engine(), redis.client(), applied.dates, redis.ttl_s)
    except NothingToServe as exc:
        context.log.warning(f"{exc}: {sorted(applied.dates)} recorded, not priced")
        return []
    for r in refreshed:
        context.log.info(f"{r.day}: {r.games} games ({r.live} to play), "
                         f"{r.coverage.present}/{r.coverage.expected} keys fresh")  # fmt: skip
    return _report(applied, refreshed)


@sensor(
    name="feed_folder_sensor",
    job=scorecard_job,
    minimum_interval_seconds=LiveSettings().sensor_interval_s,
    default_status=DefaultSensorStatus.RUNNING,
    description="New files in the feed folder (schedules, starters, postponements, results): "
    "recorded, and the dates they change re-priced and re-warmed.",
)
def feed_folder_sensor(
    context: SensorEvaluationContext, store: StoreResource, redis: RedisResource, feeds: LiveFeeds
) -> SensorResult | SkipReason:
    folder = Path(feeds.feed_dir)
    if not folder.is_dir():
        return SkipReason(f"no feed folder {folder} (BULLPEN_LIVE_FEED_DIR)")
    seen = set(json.loads(context.cursor or "[]"))
    events: list[AssetMaterialization] = []
    graded: set[int] = set()  # seasons whose results arrived: their scorecard is re-graded
    until = time.monotonic() + feeds.watch_s
    while True:  # the daemon ticks a sensor every 5 s at most: watch within the tick
        present, new = new_files(folder, seen)
        seen = {k for k in seen if k.split(":")[0] in present}
        if new:
            applied, reported = _apply_files(context, new, store, redis)
            events += reported
            graded |= {int(g[3:7]) for g in applied.games_changed} if applied.results else set()
            seen |= {key for key, _ in new}
        if time.monotonic() >= until:
            break
        time.sleep(WATCH_POLL_S)
    cursor = json.dumps(sorted(seen))
    runs = [_grade(season, cursor) for season in sorted(graded)]
    if not events and not runs:
        return SensorResult(skip_reason="no new feed files", cursor=cursor)
    return SensorResult(asset_events=events, run_requests=runs, cursor=cursor)


def _grade(season: int, cursor: str) -> RunRequest:
    """A scorecard run for `season`, once per set of files seen."""
    key = hashlib.sha256(cursor.encode()).hexdigest()[:16]
    season_config = {"config": {"season": season}}
    config = {"ops": {"live_scorecard": season_config, "model_clv_report": season_config}}
    return RunRequest(run_key=f"scorecard-{season}-{key}", run_config=config)


def new_files(folder: Path, seen: set[str]) -> tuple[set[str], list[tuple[str, Path]]]:
    """The names of the folder's files, and (key, path) of those whose key is not in `seen`
    (name and content hash: a file re-dropped unchanged is not new)."""
    present = {p.name: p for p in sorted(folder.iterdir()) if _is_feed(p)}
    keyed = [(file_key(p), p) for p in present.values()]
    return set(present), [(key, path) for key, path in keyed if key not in seen]


def _apply_files(
    context: SensorEvaluationContext, new: list[tuple[str, Path]], store: StoreResource,
    redis: RedisResource,
) -> tuple[Applied, list[AssetMaterialization]]:  # fmt: skip
    engine, now = store.engine(), clock.now()
    applied = Applied("")
    for _, path in new:
        applied = applied.merge(apply_file(engine, path, now))
    return applied, _apply_and_refresh(context, applied, store, redis)


def _is_feed(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and not path.name.startswith(".")


@sensor(
    name="stats_api_sensor",
    minimum_interval_seconds=LiveSettings().sensor_interval_s,
    default_status=DefaultSensorStatus.RUNNING,
    description="The MLB Stats API schedule (probable pitchers, postponements) for today and "
    "the next days, when BULLPEN_LIVE_STATS_API_URL is set; changed dates re-priced.",
)
def stats_api_sensor(
    context: SensorEvaluationContext, store: StoreResource, redis: RedisResource, feeds: LiveFeeds
) -> SensorResult | SkipReason:
    client = feeds.stats_client()
    if client is None:
        return SkipReason("BULLPEN_LIVE_STATS_API_URL is not set: the Stats API is not polled")
    today = feeds.today_date()
    days = [today + dt.timedelta(days=i) for i in range(feeds.days_ahead + 1)]
    digests: dict[str, str] = json.loads(context.cursor or "{}")
    engine, now = store.engine(), clock.now()
    applied = Applied("")
    with client:
        for day in days:
            try:
                payload = client.fetch_day(day)
            except StatsApiError as exc:
                context.log.warning(f"Stats API: {exc}")
                continue
            digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
            if digests.get(day.isoformat()) == digest:
                continue
            source = f"{SOURCE}:{day.isoformat()}"
            batch = parse_schedule_payload(payload, source, pitcher_index(engine), now, today=today)
            applied = applied.merge(apply_batch(engine, batch, source))
            digests[day.isoformat()] = digest
    cursor = json.dumps({d: h for d, h in sorted(digests.items())[-MAX_CURSOR_DAYS:]})
    if not applied.source:
        return SensorResult(skip_reason=f"no change for {days[0]}..{days[-1]}", cursor=cursor)
    events = _apply_and_refresh(context, applied, store, redis)
    return SensorResult(asset_events=events, cursor=cursor)
