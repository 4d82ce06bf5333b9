"""The model registry keeps metadata, metrics and artifact bytes intact."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import Engine

from bullpen.store import (
    ModelEntry,
    get_model,
    list_models,
    merge_model_metrics,
    register_model,
)


def _entry(version: str, created_at: dt.datetime | None = None, **changes) -> ModelEntry:
    values = {
        "version": version,
        "name": "win-prob",
        "kind": "lightgbm",
        "train_seasons_from": 2000,
        "train_seasons_to": 2021,
        "feature_version": "f1",
        "feature_names": ["elo_diff", "home_rest"],
        "metrics": {"log_loss": 0.6812, "brier": 0.2433, "n": 4860},
        "params": {"num_leaves": 15, "learning_rate": 0.05, "objective": "binary"},
        "artifact": os.urandom(2048) + b"\x00\xff",
        "created_at": created_at,
    }
    return ModelEntry(**(values | changes))


def test_registry_round_trip(engine: Engine) -> None:
    entry = _entry("20240101-abc", dt.datetime(2024, 1, 1, 12, 30, tzinfo=dt.UTC))
    stored = register_model(engine, entry)

    back = get_model(engine, "20240101-abc")

    assert back == stored == entry
    assert isinstance(back.artifact, bytes)
    assert get_model(engine, "missing") is None


def test_registry_defaults_list_order_and_status(engine: Engine) -> None:
    old = register_model(engine, _entry("a", dt.datetime(2023, 5, 1, tzinfo=dt.UTC)))
    elo = register_model(engine, _entry("b", None, kind="elo", feature_version=None,
                                        feature_names=[], artifact=b""))  # fmt: skip
    assert elo.status == "trained"
    assert elo.created_at is not None and elo.created_at > old.created_at

    assert [m.version for m in list_models(engine)] == ["b", "a"]


def test_metrics_merge_into_a_registered_model(engine: Engine) -> None:
    register_model(engine, _entry("a"))
    merge_model_metrics(engine, "a", {"backtest": {"brier": 0.238}})
    assert get_model(engine, "a").metrics["backtest"] == {"brier": 0.238}
    assert get_model(engine, "a").metrics["log_loss"] == 0.6812
    with pytest.raises(LookupError):
        merge_model_metrics(engine, "zzz", {"x": 1})


def test_register_same_version_replaces(engine: Engine) -> None:
    register_model(engine, _entry("a"))
    replacement = register_model(engine, _entry("a", metrics={"log_loss": 0.5}))
    assert list_models(engine) == [replacement]
