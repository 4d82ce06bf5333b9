"""The core's settings: one source in sections, the environment's names unchanged, and no
development secret outside a local deployment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bullpen.settings import DEV_API_KEY_SECRET, Settings, parse_seasons


def test_sections_read_the_variables_a_deployment_already_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BULLPEN_DATABASE_URL", "sqlite:////tmp/x.db")
    monkeypatch.setenv("BULLPEN_REDIS_URL", "redis://127.0.0.1:7000/0")
    monkeypatch.setenv("BULLPEN_REDIS_CLUSTER", "true")
    monkeypatch.setenv("BULLPEN_SEASONS", "2019,2021")
    monkeypatch.setenv("BULLPEN_PROMOTION_WARM_DAYS", "5")
    monkeypatch.setenv("BULLPEN_MODEL_THREADS", "2")
    settings = Settings()
    assert settings.store.database_url == "sqlite:////tmp/x.db"
    assert (settings.redis.redis_url, settings.redis.redis_cluster) == (
        "redis://127.0.0.1:7000/0", True,
    )  # fmt: skip
    assert parse_seasons(settings.gamelogs.seasons) == [2019, 2021]
    assert settings.promotion.warm_days == 5 and settings.model_threads == 2


def test_the_development_secret_is_refused_outside_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BULLPEN_API_KEY_SECRET", raising=False)
    assert Settings().auth.api_key_secret.get_secret_value() == DEV_API_KEY_SECRET  # local: ok
    monkeypatch.setenv("BULLPEN_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="BULLPEN_API_KEY_SECRET is the development default"):
        Settings()
    monkeypatch.setenv("BULLPEN_API_KEY_SECRET", "a-real-secret-from-a-kubernetes-secret")
    assert Settings().environment == "production"


def test_the_web_tier_starts_no_app_on_the_development_secret_in_production(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    from online.app import create_app

    monkeypatch.delenv("BULLPEN_API_KEY_SECRET", raising=False)
    monkeypatch.setenv("BULLPEN_ENVIRONMENT", "staging")
    with pytest.raises(ValidationError, match="development default"):
        create_app()


def test_seasons_parse_ranges_and_lists() -> None:
    assert parse_seasons("2000-2003") == [2000, 2001, 2002, 2003]
    assert parse_seasons(" 2022, 2019-2020 ,") == [2019, 2020, 2022]
