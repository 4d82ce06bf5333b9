"""`bullpen schedule import|show` on the real 2023 schedule: every row lands, bad rows are
reported with file and line, July's postponed games move to their makeup dates."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bullpen.cli.main import app
from bullpen.serving.slate import slate
from bullpen.store import make_engine
from bullpen.store.live import read_feed_issues, read_schedule

runner = CliRunner()


@pytest.fixture(scope="module")
def schedule_2023(gamelogs_dir: Path) -> Path:
    path = gamelogs_dir.parent / "schedules" / "2023schedule.csv"
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


def test_import_is_complete_and_idempotent(schedule_2023: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    args = ["schedule", "import", str(schedule_2023), "--database-url", url]

    first, again = runner.invoke(app, args), runner.invoke(app, args)

    assert first.exit_code == 0, first.output
    assert "2472 games (42 postponed), 2472 new" in first.output
    assert "0 new, 0 status changed, 0 moved, 2472 unchanged, 0 quarantined" in again.output
    shown = runner.invoke(app, ["schedule", "show", "--date", "2023-07-01", "--database-url", url])
    assert "SLN202307011  NYA@SLN  scheduled" in shown.output  # the makeup of 2023-06-30


def test_july_postponements_are_priced_on_their_makeup_date(
    schedule_2023: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    runner.invoke(app, ["schedule", "import", str(schedule_2023), "--database-url", url])
    engine = make_engine(url)
    rows = read_schedule(engine, season=2023)
    july = rows[(rows["status"] == "postponed") & (rows["date"].dt.month == 7)]

    assert list(july["game_id"]) == ["CHA202307050", "KCA202307140", "DET202307260"]
    for game in july.itertuples(index=False):
        original = slate(engine, game.date.date())
        assert game.game_id not in set(original.games["game_id"])
        assert game.game_id in original.postponed
        makeup = slate(engine, game.makeup_date.date())
        teams = {
            (home, away)
            for home, away in zip(makeup.games["home"], makeup.games["away"], strict=True)
        }
        assert (game.home, game.away) in teams, game.game_id
    engine.dispose()


def test_bad_rows_are_reported_with_file_and_line_and_the_rest_lands(
    schedule_2023: Path, tmp_path: Path
) -> None:
    lines = schedule_2023.read_text(encoding="latin-1").splitlines()[:6]
    lines[2] = lines[2].replace('"CHN"', '"XXX"')
    lines[4] = lines[4].replace('"20230330"', '"20231399"', 1)
    bad = tmp_path / "2023schedule.csv"
    bad.write_text("\r\n".join(lines) + "\r\n", encoding="latin-1")
    url = f"sqlite:///{tmp_path / 'store.db'}"

    result = runner.invoke(app, ["schedule", "import", str(bad), "--database-url", url])

    assert result.exit_code == 0, result.output
    assert "3 games (0 postponed), 3 new" in result.output and "2 quarantined" in result.output
    issues = read_feed_issues(make_engine(url))
    assert list(issues["location"]) == ["line 3", "line 5"]
    assert "XXX" in issues["reason"].iloc[0]


def test_missing_file_and_bad_date_exit_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    missing = runner.invoke(app, ["schedule", "import", str(tmp_path / "nope.csv"),
                                  "--database-url", url])  # fmt: skip
    bad_date = runner.invoke(app, ["schedule", "show", "--date", "July 1", "--database-url", url])

    assert missing.exit_code == 2 and "nope.csv" in missing.output
    assert bad_date.exit_code == 2 and "not YYYY-MM-DD" in bad_date.output
