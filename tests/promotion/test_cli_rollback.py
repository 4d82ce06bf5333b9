"""`bullpen rollback` (the typer app registered as a group whose callback is the command)."""

from __future__ import annotations

import redis
import typer
from promo_support import AS_OF, REDIS_URL, make_active, register_elo
from typer.testing import CliRunner

from bullpen import promotion
from bullpen.cache import ActiveModel, get_active
from bullpen.cli_promotion import rollback_app
from bullpen.features import FEATURE_VERSION
from bullpen.promotion import Status
from bullpen.store import make_engine


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(rollback_app, name="rollback")

    @app.command()
    def version() -> None:  # a second command, so `rollback` is a sub-command as in bullpen
        typer.echo("0")

    return app


def test_cli_rollback_rewarms_and_flips(store_url: str, cache: redis.Redis) -> None:
    engine = make_engine(store_url)
    try:
        for version in ("elo-blue", "elo-green"):
            register_elo(engine, version)
        make_active(engine, cache, "elo-blue")
        promotion.transition(engine, "elo-green", Status.CHECKED, "test")
        promotion.begin_warming(engine, "elo-green", "test")
        promotion.promote(engine, cache, "elo-green", "test")
        args = ["rollback", "--reason", "pager", "--as-of", AS_OF.isoformat(), "--days", "2",
                "--database-url", store_url, "--redis-url", REDIS_URL]  # fmt: skip
        result = CliRunner().invoke(_cli(), args)
        assert result.exit_code == 0, result.output
        assert "active: elo-blue (was elo-green)" in result.output
        assert get_active(cache) == ActiveModel("elo-blue", FEATURE_VERSION)
        assert cache.keys("bp:v1:pred:elo-blue:*")  # its keys were re-warmed
        last = promotion.audit_log(engine, "elo-blue")[-1]
        assert last.actor.startswith("cli:") and last.reason == "pager"

        # Without options it re-warms today's games (none in 2022 data) and rolls forward.
        forward = CliRunner().invoke(
            _cli(), ["rollback", "--database-url", store_url, "--redis-url", REDIS_URL]
        )
        assert forward.exit_code == 0, forward.output
        assert get_active(cache) == ActiveModel("elo-green", FEATURE_VERSION)
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
        _cli(), ["rollback", "--database-url", store_url, "--redis-url", REDIS_URL]
    )
    assert result.exit_code == 1 and "no retired model" in result.output
