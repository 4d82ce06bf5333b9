"""The season replay, short: July 2023 played through the live loop on a private stack.

`bullpen replay` starts its own store, Redis, Dagster daemon (the live sensors) and two API
processes, publishes each day's schedule, starters (with scratches) and results into the
feed folder, polls the replicas as a bettor would, and retrains after day 2 through the
blue-green promotion (checks, promotion_sensor, promotion_job). The targets of the issue hold on a
short window here; the longer documented run is in the README.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.loopback import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration]
DAYS = 3


def test_a_short_replay_meets_the_live_targets(gamelogs_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "replay.json"
    bullpen = str(Path(sys.executable).parent / "bullpen")
    command = [bullpen, "replay", "--season", "2023",
               "--from", "2023-07-01", "--days", str(DAYS), "--speed", "3600",
               "--scratch-rate", "0.3", "--history", "3", "--retrain-every", "2",
               "--json-out", str(out),
               "--workdir", str(tmp_path / "stack")]  # fmt: skip
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    report = json.loads(out.read_text())
    days, totals = report["days"], report["totals"]
    assert [d["date"] for d in days] == ["2023-07-01", "2023-07-02", "2023-07-03"]
    for day in days:  # every game not postponed is priced before its first pitch
        assert day["games_predicted_before_first_pitch"] == day["games_scheduled"] > 0, day
    assert totals["starter_changes"] >= 3
    assert totals["starter_change_to_served_p95_s"] <= 5.0
    assert totals["stale_answers"] == 0
    assert 0.15 < totals["brier"] < 0.3 and 0.15 < totals["elo_brier"] < 0.3
    assert report["dagster"]["failed_runs"] == 0
    assert report["dagster"]["feed_folder_sensor_failure_ticks"] == 0
    dagster = report["dagster"]
    assert (
        dagster["feed_folder_sensor_success_ticks"] + dagster["feed_folder_sensor_skipped_ticks"]
        > DAYS
    )
    # The store graded the same prices: each published before its simulated first pitch.
    card = report["scorecard"]
    priced = sum(d["games_predicted_before_first_pitch"] for d in days)
    assert card["graded_games"] >= priced - 1  # a tie is not graded
    # A scorecard run per evening, and the retrain after day 2 went through the promotion:
    # its checks passed, promotion_sensor launched promotion_job, the new model serves.
    assert dagster["runs"] == dagster["succeeded_runs"] == DAYS + 2
    statuses = {m["version"]: m["status"] for m in report["models"]}
    assert statuses.pop("replay-blend-20230701") == "retired"
    assert list(statuses.values()) == ["active"]
    # 2023-07-01 has SLN's doubleheader: the makeup of the 2023-06-30 rainout.
    assert days[0]["games_scheduled"] == 16
