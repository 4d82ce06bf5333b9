"""The table of contents of bullpen's batch side: what exists, what it uses, when it runs.

Load it with `dagster dev -w workspace.yaml` (or `-m orchestration.definitions`).
"""

from __future__ import annotations

from dagster import Definitions, load_assets_from_modules

from assets import backtest, cache, features, ingestion, modeling, serving
from orchestration.jobs import batch_job, daily_predictions_job
from orchestration.resources import GameLogSource, RedisResource, StoreResource
from orchestration.schedules import daily_predictions_schedule

defs = Definitions(
    # What gets materialized, in the data's order; group names are the UI's groups.
    assets=[
        *load_assets_from_modules([ingestion], group_name="ingestion"),
        *load_assets_from_modules([features], group_name="features"),
        *load_assets_from_modules([modeling, backtest], group_name="modeling"),
        *load_assets_from_modules([serving, cache], group_name="serving"),
    ],
    # What the assets talk to; defaults from BULLPEN_* environment variables.
    resources={
        "store": StoreResource(),
        "gamelogs": GameLogSource(),
        "redis": RedisResource(),
    },
    # How they run: the whole batch, and one as-of date at a time.
    jobs=[batch_job, daily_predictions_job],
    # When: today's predictions every morning (stopped until turned on in the UI).
    schedules=[daily_predictions_schedule],
)
