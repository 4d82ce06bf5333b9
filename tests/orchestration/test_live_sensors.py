"""The live sensors: files dropped in the feed folder, and the Stats API polled on loopback,
re-price exactly the dates they change, report them as `live_slates`, and never re-apply
what they have seen."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from dagster import DagsterInstance

from assets.resources import LiveFeeds
from bullpen.cache.contract import revision_key
from bullpen.domain.features import FEATURE_VERSION
from bullpen.sources.parsed import read_gamelogs
from bullpen.store import make_engine
from bullpen.store.live import read_feed_issues, read_pitchers, read_schedule
from orchestration.definitions import defs
from orchestration.live import feed_folder_sensor, stats_api_sensor
from tests.support.live_sensors import DAY, SCHEDULE, Live
from tests.support.live_sensors import tick as _tick
from tests.support.mlb_stats_server import NYY, SF, game, schedule, serve_stats_api, side


def _pitcher(live: Live, team: str, rank: int) -> tuple[str, str]:
    engine = make_engine(live.store_url)
    pitchers = sorted(p for p in read_pitchers(engine) if p[2] == team)
    engine.dispose()
    return pitchers[rank][0], pitchers[rank][1]


def _starters_file(live: Live, name: str, home: tuple[str, str]) -> None:
    (live.folder / name).write_text(
        f"game_id,side,pitcher_id,pitcher_name\nBOS202303300,home,{home[0]},{home[1]}\n"
    )


def _metadata(tick: Any) -> list[dict[str, Any]]:
    return [{k: v.value for k, v in e.metadata.items()} for e in tick.asset_events]


def test_feed_files_reprice_their_dates_once(live: Live, instance: DagsterInstance) -> None:
    (live.folder / "2023schedule.csv").write_text(SCHEDULE)
    first = _pitcher(live, "BOS", 0)
    _starters_file(live, "starters-1.csv", first)
    (live.folder / "broken.json").write_text("{not json")

    tick = _tick(feed_folder_sensor, live, instance)

    [report] = _metadata(tick)
    assert (report["date"], report["games"], report["not_played_yet"]) == ("2023-03-30", 2, 2)
    assert report["served_fresh"] == report["keys_expected"] == 3  # 2 games + the slate
    assert first[1] in report["starters_changed"]
    engine = make_engine(live.store_url)
    assert len(read_schedule(engine, on=DAY)) == 2
    assert "dropfolder:broken.json" in set(read_feed_issues(engine)["source"])  # not lost
    engine.dispose()
    revision = live.redis.get(revision_key(FEATURE_VERSION, DAY))
    assert revision is not None

    again = _tick(feed_folder_sensor, live, instance, tick.cursor)
    assert again.skip_message == "no new feed files" and not again.asset_events

    second = _pitcher(live, "BOS", 1)
    _starters_file(live, "starters-2.csv", second)  # the scratch
    scratch = _tick(feed_folder_sensor, live, instance, again.cursor)
    [report] = _metadata(scratch)
    assert second[1] in report["starters_changed"] and first[1] not in report["starters_changed"]
    assert live.redis.get(revision_key(FEATURE_VERSION, DAY)) != revision
    assert sorted(json.loads(scratch.cursor))[0].startswith("2023schedule.csv:")


def test_a_tick_watches_the_folder_and_applies_a_file_that_arrives_during_it(
    live: Live, instance: DagsterInstance
) -> None:
    live.resources["feeds"] = LiveFeeds(feed_dir=str(live.folder), stats_api_url=None, watch_s=3)
    arrive = threading.Timer(0.5, lambda: (live.folder / "2023schedule.csv").write_text(SCHEDULE))
    started = time.monotonic()
    arrive.start()
    tick = _tick(feed_folder_sensor, live, instance)
    arrive.join()

    assert 3 <= time.monotonic() - started < 30  # it watched; it did not hang
    [report] = _metadata(tick)
    assert report["date"] == "2023-03-30" and report["games"] == 2


def test_stats_api_sensor_is_off_without_a_url(live: Live, instance: DagsterInstance) -> None:
    tick = _tick(stats_api_sensor, live, instance)
    assert "not set" in tick.skip_message


def test_stats_api_sensor_prices_the_days_it_polls(live: Live, instance: DagsterInstance) -> None:
    (live.folder / "2023schedule.csv").write_text(SCHEDULE)  # the games, from the schedule
    _tick(feed_folder_sensor, live, instance)
    cole = _pitcher(live, "NYA", 0)
    payload = schedule(game(700001, DAY.isoformat(), side(NYY, (1, cole[1])), side(SF)))
    with serve_stats_api({DAY.isoformat(): payload, "2023-03-31": schedule()}) as server:
        live.resources["feeds"] = LiveFeeds(
            feed_dir=str(live.folder),
            stats_api_url=server.base_url,
            today=DAY.isoformat(),
            watch_s=0,
        )
        tick = _tick(stats_api_sensor, live, instance)
        again = _tick(stats_api_sensor, live, instance, tick.cursor)
        asked = list(server.requests)

    [report] = _metadata(tick)
    assert report["date"] == DAY.isoformat() and cole[1] in report["starters_changed"]
    assert "no change" in again.skip_message  # the same payloads: nothing re-applied
    assert len(asked) == 4 and all("hydrate=probablePitcher" in a for a in asked)
    engine = make_engine(live.store_url)
    row = read_schedule(engine, on=DAY).set_index("game_id").loc["NYA202303300"]
    engine.dispose()
    assert (row["home_sp_id"], row["external_id"]) == (cole[0], "700001")


def test_results_launch_the_scorecard_run(
    live: Live, instance: DagsterInstance, gamelogs_dir: Path
) -> None:
    (live.folder / "2023schedule.csv").write_text(SCHEDULE)
    _starters_file(live, "starters-1.csv", _pitcher(live, "BOS", 0))
    first = _tick(feed_folder_sensor, live, instance)
    played = [g for g in read_gamelogs(gamelogs_dir, [2023]).games if g.date == DAY]
    lines = [g.source_line for g in played if g.game_id in ("BOS202303300", "NYA202303300")]
    (live.folder / "gl20230330.txt").write_text("\n".join(lines) + "\n")

    tick = _tick(feed_folder_sensor, live, instance, first.cursor)

    [request] = tick.run_requests
    season = {"config": {"season": 2023}}
    assert request.run_config == {"ops": {"live_scorecard": season, "model_clv_report": season}}
    run = defs.resolve_job_def("scorecard_job").execute_in_process(
        run_config=request.run_config, instance=instance,
        resources={"store": live.resources["store"]},
    )  # fmt: skip
    assert run.success
    [event] = run.asset_materializations_for_node("live_scorecard")
    assert event.metadata["season"].value == 2023
    # Priced by the sensor at wall-clock time, long after 2023's first pitches: excluded.
    assert event.metadata["excluded_after_first_pitch"].value == 2
    assert event.metadata["graded_games"].value == 0
    [clv] = run.asset_materializations_for_node("model_clv_report")
    assert clv.metadata["recommendations"].value == 0  # no lines: nothing recommended
