"""Registering models: the version scheme, and re-registration that changes nothing else."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from bullpen.domain.model import WinModel
from bullpen.serving import lifecycle
from bullpen.serving.lifecycle import Status
from bullpen.serving.registry import add_metrics, artifact_digest, new_version, register
from bullpen.store import get_model, list_models


def test_version_names_kind_time_and_artifact() -> None:
    when = dt.datetime(2024, 3, 28, 9, 5, 7, tzinfo=dt.UTC)
    version = new_version("blend", b"artifact", when)
    assert version == f"blend-20240328090507-{artifact_digest(b'artifact')[:8]}"
    assert len(version) <= 64  # the registry's column width


def test_the_same_artifact_keeps_its_version_status_and_metrics(engine: Engine) -> None:
    first = register(engine, WinModel(kind="elo"), [2021], {}, {"in_sample": {"brier": 0.24}})
    lifecycle.transition(engine, first.version, Status.CHECKED, "test")
    add_metrics(engine, first.version, {"backtest": {"season": 2022}})
    again = register(engine, WinModel(kind="elo"), [2021], {}, {"in_sample": {"brier": 0.25}})
    assert again.version == first.version and len(list_models(engine)) == 1
    stored = get_model(engine, first.version)
    assert stored.status == "checked"
    assert stored.metrics == {"in_sample": {"brier": 0.25}, "backtest": {"season": 2022}}
