"""The live sensors' test data: a 2023 schedule on a served 2022 store, and one tick."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from dagster import DagsterInstance, build_sensor_context

DAY = dt.date(2023, 3, 30)
SCHEDULE = (
    "Date,Num,Day,Visitor,League,Game,Home,League,Game,Day/Night,Postponed,Makeup\r\n"
    '"20230330","0","Thu","BAL","AL",1,"BOS","AL",1,"d","",""\r\n'
    '"20230330","0","Thu","SFN","NL",1,"NYA","AL",1,"d","",""\r\n'
)


@dataclass
class Live:
    store_url: str
    redis: redis.Redis
    folder: Path
    resources: dict[str, Any]
    odds_folder: Path


def tick(sensor: Any, live: Live, instance: DagsterInstance, cursor: str | None = None) -> Any:
    with build_sensor_context(instance, cursor=cursor, resources=live.resources) as context:
        return sensor.evaluate_tick(context)
