"""The candidate features `bullpen-bench quality --lever` measures are pre-game, like the
platform's: a lever that leaked a result would report a gain that is not there.

Same check as tests/bullpen/domain/test_features_leakage.py: blank a day's results and
drop every later date; that day's lever columns must not change. The game's own
source line (its lineups, its line score) stays: a lever may read the announced
lineup, never the result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.levers import LEVERS
from bullpen.domain.gamelogs import GAME_COLUMNS, GameRecord
from bullpen.sources.parsed import read_gamelogs

STATS = [c for c in GAME_COLUMNS if c.startswith(("home_", "away_"))
         and c.split("_", 1)[1] not in ("league", "sp_id", "sp_name")]  # fmt: skip
DAYS = ("2022-04-08", "2022-06-15", "2022-09-30")
# Days after a day whose games its results reach: fatigue looks back 3 days; the
# ridge refits every 14, so games of the day's own period cannot move.
REACH = {"bullpen": (1, 3), "lineups": (15, 400)}


@pytest.fixture(scope="module")
def logs(gamelogs_dir: Path) -> tuple[pd.DataFrame, list[GameRecord]]:
    parsed = read_gamelogs(gamelogs_dir, [2021, 2022])
    return parsed.frame(), parsed.games


@pytest.mark.parametrize("name", sorted(LEVERS))
def test_a_lever_sees_nothing_of_its_day_or_later(
    logs: tuple[pd.DataFrame, list[GameRecord]], name: str
) -> None:
    games, records = logs
    build = LEVERS[name][0]
    full = build(games, records)
    assert full.notna().any().all(), "every column has values"
    for text in DAYS:
        day = pd.Timestamp(text)
        known = games[games["date"] <= day].copy()
        on_day = known["date"] == day
        known.loc[on_day, STATS] = np.nan
        ids = known.loc[on_day, "game_id"]
        replay = build(known.reset_index(drop=True), records).loc[ids]
        # An iterative ridge solve (the lineups lever) is exact to its tolerance only.
        atol = 1e-6 if name == "lineups" else 1e-12
        np.testing.assert_allclose(replay.to_numpy(), full.loc[ids].to_numpy(), rtol=0, atol=atol)
        # Without the day, later games do change: the check can fail.
        first, last = (day + pd.Timedelta(days=d) for d in REACH.get(name, (1, 400)))
        later = games.loc[games["date"].between(first, last), "game_id"]
        if later.empty:
            continue
        without = build(games[games["date"] != day].reset_index(drop=True), records).loc[later]
        assert not np.allclose(without.to_numpy(), full.loc[later].to_numpy(), equal_nan=True)
