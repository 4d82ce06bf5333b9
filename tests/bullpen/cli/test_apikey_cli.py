"""`bullpen apikey create|list|revoke` against a fresh store, with the core's secret."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import bullpen.store.apikeys as store_keys
from bullpen.cli.apikeys import apikey_app
from bullpen.domain.apikeys import hash_key
from bullpen.store import make_engine


def test_apikey_cli(tmp_path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BULLPEN_API_KEY_SECRET", "cli-secret")  # read by the core's settings
    runner = CliRunner()
    created = runner.invoke(apikey_app, ["create", "--name", "ops", "--scope", "admin",
                                         "--database-url", url])  # fmt: skip
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    engine = make_engine(url)
    try:
        record = store_keys.lookup_key(engine, hash_key("cli-secret", key))
        assert record is not None and record.scope == "admin"
    finally:
        engine.dispose()
    listed = runner.invoke(apikey_app, ["list", "--database-url", url])
    assert "ops" in listed.stdout and key not in listed.stdout
    assert (
        runner.invoke(apikey_app, ["revoke", str(record.id), "--database-url", url]).exit_code == 0
    )
    assert (
        runner.invoke(apikey_app, ["revoke", str(record.id), "--database-url", url]).exit_code == 1
    )
    bad = runner.invoke(
        apikey_app, ["create", "--name", "x", "--scope", "root", "--database-url", url]
    )
    assert bad.exit_code == 2
