"""Odds sensors: lines from the odds drop folder and from The Odds API, into boards in seconds.

`odds_folder_sensor` imports each new file of the odds folder (`*.json`: The Odds
API's payload, `*.csv`: the odds CSV); `odds_api_sensor` polls The Odds API when a
URL is configured (each poll spends quota, so every `BULLPEN_LIVE_ODDS_POLL_S`).
Both record the lines (`bullpen.serving.odds`), then write the boards of the dates
whose lines changed and move their odds pointers in the tick, as the live sensors
do for starters; each date is reported as an `odds_boards` materialization.
"""

from __future__ import annotations

import json
from pathlib import Path

from dagster import (
    AssetMaterialization,
    AssetSpec,
    DefaultSensorStatus,
    MetadataValue,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from assets.resources import LiveFeeds, RedisResource, StoreResource
from bullpen.serving import clock
from bullpen.serving.odds import (
    OddsImport,
    format_of,
    import_lines,
    read_odds_file,
    refresh_boards,
)
from bullpen.settings import LiveSettings
from bullpen.sources.odds_api import OddsApiError
from orchestration.live import new_files

ODDS_BOARDS = "odds_boards"

odds_boards = AssetSpec(
    ODDS_BOARDS,
    group_name="live",
    description="Each date whose best-bet board changed with new lines: snapshots stored, "
    "games with odds, lines quarantined (reported by the odds sensors).",
)


def _import_and_refresh(
    context: SensorEvaluationContext, result: OddsImport, store: StoreResource,
    redis: RedisResource,
) -> list[AssetMaterialization]:  # fmt: skip
    for issue in result.issues[:20]:
        context.log.warning(f"quarantined {issue.source} {issue.location}: {issue.reason}")
    context.log.info(f"{result.source}: {result.stored} new snapshots, {result.repeated} known")
    if not result.dates:
        return []
    done = refresh_boards(store.engine(), redis.client(), result.dates, redis.ttl_s)
    if not done:
        context.log.warning("no model serves yet: the lines are stored, boards come with one")
    return [
        AssetMaterialization(
            ODDS_BOARDS,
            metadata={
                "date": MetadataValue.text(d.day.isoformat()),
                "source": MetadataValue.text(result.source),
                "model_version": MetadataValue.text(d.model_version),
                "new_snapshots": MetadataValue.int(result.stored),
                "games": MetadataValue.int(d.games),
                "games_with_odds": MetadataValue.int(d.priced),
                "quarantined": MetadataValue.int(len(result.issues)),
            },
        )
        for d in done
    ]


@sensor(
    name="odds_folder_sensor",
    minimum_interval_seconds=LiveSettings().sensor_interval_s,
    default_status=DefaultSensorStatus.RUNNING,
    description="New files in the odds folder (The Odds API JSON, the odds CSV): lines "
    "recorded once, the boards of their dates re-warmed.",
)
def odds_folder_sensor(
    context: SensorEvaluationContext, store: StoreResource, redis: RedisResource, feeds: LiveFeeds
) -> SensorResult | SkipReason:
    folder = Path(feeds.odds_dir)
    if not folder.is_dir():
        return SkipReason(f"no odds folder {folder} (BULLPEN_LIVE_ODDS_DIR)")
    seen = set(json.loads(context.cursor or "[]"))
    present, new = new_files(folder, seen)
    seen = {k for k in seen if k.split(":")[0] in present}
    events: list[AssetMaterialization] = []
    for key, path in new:
        lines, issues = read_odds_file(path, format_of(path), feeds.odds_price_format)
        result = import_lines(store.engine(), path.name, lines, issues)
        events += _import_and_refresh(context, result, store, redis)
        seen.add(key)
    cursor = json.dumps(sorted(seen))
    if not events:
        return SensorResult(skip_reason=f"{len(new)} new odds files, no board changed",
                            cursor=cursor)  # fmt: skip
    return SensorResult(asset_events=events, cursor=cursor)


@sensor(
    name="odds_api_sensor",
    minimum_interval_seconds=LiveSettings().odds_poll_s,
    default_status=DefaultSensorStatus.RUNNING,
    description="The Odds API's MLB moneylines, when BULLPEN_LIVE_ODDS_API_URL is set: new "
    "lines recorded, the boards of their dates re-warmed.",
)
def odds_api_sensor(
    context: SensorEvaluationContext, store: StoreResource, redis: RedisResource, feeds: LiveFeeds
) -> SensorResult | SkipReason:
    client = feeds.odds_client()
    if client is None:
        return SkipReason("BULLPEN_LIVE_ODDS_API_URL is not set: The Odds API is not polled")
    with client:
        try:
            lines, issues = client.lines(clock.now())
        except OddsApiError as exc:
            return SkipReason(f"The Odds API: {exc}")
    source = lines[0].source if lines else client.url(with_key=False)
    events = _import_and_refresh(context, import_lines(store.engine(), source, lines, issues),
                                 store, redis)  # fmt: skip
    if not events:
        return SensorResult(skip_reason=f"{len(lines)} lines, no board changed")
    return SensorResult(asset_events=events)
