"""The pipeline under bad or missing inputs: it reports, skips, or fails clearly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import redis
from dagster import ExecuteInProcessResult

from assets.serving.partitions import add_game_dates
from bullpen.domain.gamelogs import parse_lines
from bullpen.domain.model import elo_model
from bullpen.serving.registry import register
from bullpen.store import ModelEntry, load_parse_result, read_predictions, register_model
from tests.support.promotion import make_active

AS_OF = "2022-07-04"


def _bad_source(real_gamelogs: Path, directory: Path) -> Path:
    """One good log with two bad lines appended, a corrupt zip and an empty log."""
    directory.mkdir()
    good = (real_gamelogs / "GL2022.TXT").read_bytes()
    first_line = good.split(b"\n", 1)[0]
    bad_date = b'"20221399"' + first_line[len(b'"20220407"') :]
    (directory / "GL2022.TXT").write_bytes(good + b"not,a,game,log,line\n" + bad_date + b"\n")
    (directory / "gl2021.zip").write_bytes(b"PK\x03\x04 this is not really a zip archive")
    (directory / "GL2020.TXT").write_bytes(b"")
    return directory


def test_bad_files_are_reported_and_good_games_flow(
    real_gamelogs, sqlite_url, tmp_path, pipeline_for, engine_for
) -> None:
    source = _bad_source(real_gamelogs, tmp_path / "bad")
    pipeline = pipeline_for(sqlite_url, source, seasons="2020-2022")

    batch = pipeline.batch()
    assert batch.success
    meta = pipeline.metadata(batch)
    files = meta["gamelog_files"]
    assert files["files"] == 1 and files["missing_seasons"] == [2020, 2021]
    errors = files["source_errors"]
    assert len(errors) == files["source_error_count"] == 2
    assert any(e.startswith("gl2021.zip: corrupt archive") for e in errors)
    assert "GL2020.TXT: file is empty" in errors

    games = meta["games"]
    assert games["games_loaded"] == games["store_total_games"] == 2430
    assert games["quarantined"] == 2
    assert "| GL2022.TXT | 2431 | expected 161 fields" in games["quarantine_sample"]
    assert "| GL2022.TXT | 2432 | bad date" in games["quarantine_sample"]
    # One season: nothing earlier to backtest against, which is reported, not fatal.
    assert "no season before 2022" in meta["backtest_report"]["skipped"]

    assert pipeline.promote(meta["candidate_model"]["version"], AS_OF).success
    assert pipeline.daily(AS_OF).success
    stored = read_predictions(engine_for(sqlite_url), on=dt.date(2022, 7, 4))
    assert len(stored) == 14


def test_a_date_without_games_is_empty_not_an_error(sqlite_url, tmp_path, pipeline_for) -> None:
    """A registered date whose games are gone (all postponed since): a visible empty run."""
    pipeline = pipeline_for(sqlite_url, tmp_path)
    add_game_dates(pipeline.instance, [dt.date(2022, 1, 15)])
    result = pipeline.daily("2022-01-15")
    assert result.success
    meta = pipeline.metadata(result)
    assert meta["scheduled_games"]["games"] == 0
    assert "no games" in meta["scheduled_games"]["note"]
    assert meta["game_predictions"]["games"] == 0


def _store_with_2022(real_gamelogs: Path, url: str, pipeline_for, engine_for):
    pipeline = pipeline_for(url, real_gamelogs)
    engine = engine_for(url)
    pipeline.resources()["store"].engine()  # migrates the empty store
    lines = (real_gamelogs / "GL2022.TXT").read_text(encoding="latin-1").splitlines()
    parsed = parse_lines(lines, "GL2022.TXT")
    load_parse_result(engine, "GL2022.TXT", parsed, "sha")
    add_game_dates(pipeline.instance, {g.date for g in parsed.games})  # as `games` does
    return pipeline, engine


def _failure_text(result: ExecuteInProcessResult) -> str:
    return " ".join(e.step_failure_data.error.message for e in result.get_step_failure_events())


def test_a_model_of_another_feature_version_is_refused(
    real_gamelogs, sqlite_url, pipeline_for, engine_for
) -> None:
    pipeline, engine = _store_with_2022(real_gamelogs, sqlite_url, pipeline_for, engine_for)
    stale = ModelEntry(
        version="blend-stale",
        name="bullpen-win-probability",
        kind="blend",
        train_seasons_from=2021,
        train_seasons_to=2021,
        feature_version="f0-stale",
        feature_names=[],
        metrics={},
        params={},
        artifact=b"{}",
    )
    register_model(engine, stale)
    cache = redis.Redis.from_url(pipeline.redis_url)
    make_active(engine, cache, "blend-stale")  # promoted by hand: its keys could not even warm
    cache.close()
    result = pipeline.daily(AS_OF)
    assert not result.success
    assert "expects feature version f0-stale" in _failure_text(result)
    assert read_predictions(engine).empty


def test_the_daily_job_predicts_with_the_promoted_model(
    real_gamelogs, sqlite_url, pipeline_for, engine_for
) -> None:
    pipeline, engine = _store_with_2022(real_gamelogs, sqlite_url, pipeline_for, engine_for)
    elo = register(engine, elo_model(), [2022], {}, {})
    assert not pipeline.daily(AS_OF).success  # registered is not promoted
    cache = redis.Redis.from_url(pipeline.redis_url)
    make_active(engine, cache, elo.version)
    cache.close()
    assert pipeline.daily(AS_OF).success
    stored = read_predictions(engine, on=dt.date(2022, 7, 4))
    assert len(stored) == 14 and set(stored["model_version"]) == {elo.version}
