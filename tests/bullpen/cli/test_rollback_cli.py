"""`bullpen rollback`, through the real `bullpen` command line."""

from __future__ import annotations

import redis
from typer.testing import CliRunner

from bullpen.cache.contract import ActiveModel
from bullpen.cli.main import app
from bullpen.domain.features import FEATURE_VERSION
from bullpen.serving import active, lifecycle
from bullpen.serving.active import read_pointer
from bullpen.serving.lifecycle import Status
from bullpen.store import make_engine
from tests.support.promotion import AS_OF, REDIS_URL, make_active, register_elo


def test_cli_rollback_rewarms_and_flips(store_url: str, cache: redis.Redis) -> None:
    engine = make_engine(store_url)
    try:
        for version in ("elo-blue", "elo-green"):
            register_elo(engine, version)
        make_active(engine, cache, "elo-blue")
        lifecycle.transition(engine, "elo-green", Status.CHECKED, "test")
        active.begin_warming(engine, "elo-green", "test")
        active.promote(engine, cache, "elo-green", "test")
        args = ["rollback", "--reason", "pager", "--as-of", AS_OF.isoformat(), "--days", "2",
                "--database-url", store_url, "--redis-url", REDIS_URL]  # fmt: skip
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "active: elo-blue (was elo-green)" in result.output
        assert read_pointer(cache) == ActiveModel("elo-blue", FEATURE_VERSION)
        assert cache.keys("bp:v1:pred:elo-blue:*")  # its keys were re-warmed
        last = lifecycle.audit_log(engine, "elo-blue")[-1]
        assert last.actor.startswith("cli:") and last.reason == "pager"

        # Without options it re-warms today's games (none in 2022 data) and rolls forward.
        forward = CliRunner().invoke(
            app, ["rollback", "--database-url", store_url, "--redis-url", REDIS_URL]
        )
        assert forward.exit_code == 0, forward.output
        assert "re-warmed nothing: no games scheduled" in forward.output
        assert read_pointer(cache) == ActiveModel("elo-green", FEATURE_VERSION)
    finally:
        engine.dispose()


def test_cli_rollback_without_previous_fails(store_url: str, cache: redis.Redis) -> None:
    engine = make_engine(store_url)
    try:
        register_elo(engine, "only")
        make_active(engine, cache, "only")
    finally:
        engine.dispose()
    result = CliRunner().invoke(
        app, ["rollback", "--database-url", store_url, "--redis-url", REDIS_URL]
    )
    assert result.exit_code == 1 and "no retired model" in result.output
