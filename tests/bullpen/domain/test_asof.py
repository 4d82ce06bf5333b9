"""A day's games as of its morning: every result blanked, nothing else touched."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bullpen.domain.asof import PREGAME_COLUMNS, RESULT_COLUMNS, as_of_schedule
from bullpen.store import GAME_FRAME_COLUMNS


def test_as_of_schedule_blanks_every_result_column() -> None:
    games = pd.DataFrame({c: [1] for c in GAME_FRAME_COLUMNS})
    schedule = as_of_schedule(games)
    assert set(PREGAME_COLUMNS) | set(RESULT_COLUMNS) == set(GAME_FRAME_COLUMNS)
    assert {"home_score", "away_score", "home_k", "away_pitchers_used"} <= set(RESULT_COLUMNS)
    assert schedule[list(RESULT_COLUMNS)].isna().all().all()
    assert (schedule[list(PREGAME_COLUMNS)] == 1).all().all()
    assert np.all(games[list(RESULT_COLUMNS)] == 1)  # the input is left alone
