"""The table of contents of bullpen's batch side: what exists, what it uses, when it runs.

Load it with `dagster dev -w workspace.yaml` (or `-m orchestration.definitions`).
"""

from __future__ import annotations

from dagster import (
    Definitions,
    load_asset_checks_from_package_module,
    load_assets_from_package_module,
)

import assets.features
import assets.ingestion
import assets.live
import assets.modeling
import assets.serving
from assets.resources import GameLogSource, LiveFeeds, RedisResource, StoreResource
from orchestration.jobs import (
    batch_job,
    daily_predictions_job,
    promotion_job,
    retrain_job,
    scorecard_job,
)
from orchestration.live import feed_folder_sensor, live_slates, stats_api_sensor
from orchestration.odds import odds_api_sensor, odds_boards, odds_folder_sensor
from orchestration.schedules import daily_predictions_schedule
from orchestration.sensors import promotion_sensor

defs = Definitions(
    # What gets materialized, in the data's order; each folder of `assets/` is a UI group.
    assets=[
        *load_assets_from_package_module(assets.ingestion, group_name="ingestion"),
        *load_assets_from_package_module(assets.features, group_name="features"),
        *load_assets_from_package_module(assets.modeling, group_name="modeling"),
        *load_assets_from_package_module(assets.serving, group_name="serving"),
        *load_assets_from_package_module(assets.live, group_name="live"),
        live_slates,  # reported by the live sensors
        odds_boards,  # reported by the odds sensors
    ],
    # The gate a candidate passes before promotion (blocking: a failure stops the backtest).
    asset_checks=load_asset_checks_from_package_module(assets.modeling),
    # What the assets talk to; defaults from BULLPEN_* environment variables.
    resources={
        "store": StoreResource(),
        "gamelogs": GameLogSource(),
        "redis": RedisResource(),
        "feeds": LiveFeeds(),
    },
    # How they run: the whole batch, one as-of date at a time, and a blue → green flip.
    jobs=[batch_job, daily_predictions_job, promotion_job, retrain_job, scorecard_job],
    # When: today's predictions every morning (on by default in a local deployment).
    schedules=[daily_predictions_schedule],
    # And when a candidate's checks all passed: the promotion (rejection when one failed);
    # when game-day news arrives (a schedule, a starter, a result): the dates it changes;
    # when new lines arrive: the boards of their dates.
    sensors=[
        promotion_sensor,
        feed_folder_sensor,
        stats_api_sensor,
        odds_folder_sensor,
        odds_api_sensor,
    ],
)
