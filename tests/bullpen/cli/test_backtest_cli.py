"""The backtest command is a contract: columns, rows, scores, errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bullpen.cli.main import app

runner = CliRunner()


def _link_seasons(src: Path, dest: Path, seasons: range) -> Path:
    dest.mkdir()
    for season in seasons:
        (dest / f"GL{season}.TXT").symlink_to(src / f"GL{season}.TXT")
    return dest


def test_backtest_small_window(gamelogs_dir: Path, tmp_path: Path) -> None:
    logs = _link_seasons(gamelogs_dir, tmp_path / "logs", range(2014, 2020))
    out = tmp_path / "p.csv"
    result = runner.invoke(
        app, ["backtest", "--gamelogs", str(logs), "--season", "2019", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, dtype={"game_number": int})
    assert list(frame.columns) == ["game_id", "date", "game_number", "home", "away", "p_home"]
    assert len(frame) == 2429
    assert frame["date"].str.fullmatch(r"2019-\d\d-\d\d").all()
    assert frame["p_home"].between(0, 1, inclusive="neither").all()
    assert (frame["game_id"] == frame["home"] + frame["date"].str.replace("-", "")
            + frame["game_number"].astype(str)).all()  # fmt: skip
    for name in ("model", "elo", "constant", "brier", "log_loss", "accuracy"):
        assert name in result.output


def test_backtest_without_earlier_seasons_fails_clearly(gamelogs_dir: Path, tmp_path: Path) -> None:
    logs = _link_seasons(gamelogs_dir, tmp_path / "logs", range(2019, 2020))
    result = runner.invoke(
        app, ["backtest", "--gamelogs", str(logs), "--season", "2019", "--out", str(tmp_path / "p")]
    )
    assert result.exit_code == 2
    assert "no season before 2019" in result.output


def test_backtest_missing_directory_fails_clearly(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["backtest", "--gamelogs", str(tmp_path / "nope"), "--season", "2019", "--out", "x"]
    )
    assert result.exit_code == 2
    assert "nope" in result.output


@pytest.mark.slow
def test_backtest_2022_meets_the_target(gamelogs_dir: Path, tmp_path: Path) -> None:
    """The issue's done-when: 2430 games of 2022, Brier <= 0.2400, on all bundled seasons."""
    out = tmp_path / "p2022.csv"
    result = runner.invoke(
        app, ["backtest", "--gamelogs", str(gamelogs_dir), "--season", "2022", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert len(frame) == 2430
    from bullpen.domain.metrics import brier
    from bullpen.domain.training import outcomes
    from bullpen.sources.parsed import read_gamelogs

    games = read_gamelogs(gamelogs_dir, [2022]).frame()
    y = frame["game_id"].map(outcomes(games))
    decided = y.notna()
    assert brier(y[decided], frame.loc[decided, "p_home"]) <= 0.2400
