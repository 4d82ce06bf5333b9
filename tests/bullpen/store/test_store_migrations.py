"""The migrations build exactly the schema that `bullpen.store.schema` describes."""

from __future__ import annotations

import argparse

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bullpen.store import Base, alembic_config, downgrade, make_engine, upgrade

TABLES = {
    "games", "quarantine", "ingested_files", "features", "models", "predictions", "api_keys",
    "model_audit", "model_aliases", "schedule", "starters", "feed_issues", "publications",
    "final_scores", "odds_snapshots", "bets",
}  # fmt: skip


def _diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_matches_schema(db_url: str) -> None:
    assert _tables(db_url) == set()
    upgrade(db_url)
    assert _tables(db_url) == TABLES | {"alembic_version"}
    assert _diff(db_url) == []


def test_upgrade_twice_is_a_no_op_and_downgrade_drops_everything(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)
    downgrade(db_url, "base")
    assert _tables(db_url) == {"alembic_version"}
    upgrade(db_url)
    assert _diff(db_url) == []


def test_env_takes_url_from_x_argument(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    cfg = alembic_config("sqlite:///" + str(tmp_path / "not-this.db"))
    cfg.cmd_opts = argparse.Namespace(x=[f"url={url}"])
    command.upgrade(cfg, "head")
    assert _tables(url) >= TABLES
    assert not (tmp_path / "not-this.db").exists()


def test_env_falls_back_to_bullpen_database_url(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("BULLPEN_DATABASE_URL", url)
    cfg = alembic_config(url)
    cfg.remove_main_option("sqlalchemy.url")
    command.upgrade(cfg, "head")
    assert _tables(url) >= TABLES


def test_main_migrates_the_given_url(tmp_path) -> None:
    from bullpen.store.migrate import main

    url = f"sqlite:///{tmp_path / 'cli' / 'store.db'}"
    main([url])
    assert _tables(url) >= TABLES


def test_legacy_production_rows_become_active_audited_and_come_back_on_downgrade(
    db_url: str,
) -> None:
    """Migration 0004: the served model's old status `production` is `active` afterwards,
    with an audit row naming the migration; downgrading restores exactly those rows."""
    from sqlalchemy import text

    upgrade(db_url, "0003")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for version, status in (("old-served", "production"), ("cand", "trained")):
                conn.execute(
                    text(
                        "insert into models (version, name, kind, created_at, "
                        "train_seasons_from, train_seasons_to, feature_version, feature_names, "
                        "metrics, params, artifact, status) values (:v, 'm', 'elo', "
                        "CURRENT_TIMESTAMP, 2021, 2021, 'f1', '[]', '{}', '{}', :a, :s)"
                    ),
                    {"v": version, "a": b"{}", "s": status},
                )
        upgrade(db_url)

        def statuses() -> dict[str, str]:
            with engine.connect() as conn:
                return dict(conn.execute(text("select version, status from models")).all())

        def audits() -> list[tuple]:
            with engine.connect() as conn:
                return list(conn.execute(text(
                    "select model_version, from_status, to_status, actor from model_audit"
                )).all())  # fmt: skip

        assert statuses() == {"old-served": "active", "cand": "trained"}
        assert audits() == [("old-served", "production", "active", "migration:0004")]
        downgrade(db_url, "0003")
        assert statuses() == {"old-served": "production", "cand": "trained"}
        assert audits() == []
    finally:
        engine.dispose()
