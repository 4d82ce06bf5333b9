"""CI smoke run of `bullpen-loadtest`: a few seconds of Locust on loopback. It asserts that
Locust ran and wrote its reports, never how fast anything was."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loadtest.cli import app as loadtest_app
from loadtest.runner import LoadTestError, require_loopback
from loadtest.shape import american_odds, phase_users

pytestmark = pytest.mark.integration


def test_loadtest_runs_and_writes_its_reports(served: tuple, tmp_path: Path) -> None:
    url, key, dates = served
    out = tmp_path / "report"
    result = CliRunner().invoke(
        loadtest_app,
        ["--host", url, "--dates", ",".join(str(d) for d in dates), "--users", "4",
         "--ramp-up", "1", "--sustain", "3", "--ramp-down", "1", "--out", str(out)],
        env={"BULLPEN_LOADTEST_API_KEY": key},
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output  # 1 = an SLO missed: not judged here
    for name in ("locust_stats.csv", "locust_failures.csv", "locust.html"):
        assert (out / name).stat().st_size > 0, name
    with (out / "locust_stats.csv").open() as f:
        total = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    assert int(total["Request Count"]) > 0
    assert "verdict:" in result.output and "p95" in result.output


@pytest.mark.parametrize(
    "host", ["http://example.com", "http://10.0.0.1:8000", "ftp://127.0.0.1", "http://"]
)
def test_non_loopback_hosts_are_refused(host: str) -> None:
    with pytest.raises(LoadTestError):
        require_loopback(host)


def test_loopback_hosts_are_allowed() -> None:
    require_loopback("http://127.0.0.1:8000")
    require_loopback("http://localhost:8000")


def test_phases_ramp_up_sustain_ramp_down_and_stop() -> None:
    users = [phase_users(t, 10, 5, 10, 5) for t in (0.5, 2.5, 5, 14.9, 16, 19.9, 20)]
    assert users == [1, 5, 10, 10, 8, 1, None]


def test_market_odds_are_valid_american_odds() -> None:
    import random

    rng = random.Random(1)
    for _ in range(200):
        home, away = american_odds(rng)
        assert all(o <= -100 or o >= 100 for o in (home, away))
