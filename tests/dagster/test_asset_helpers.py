"""The pure helpers behind the assets' metadata, versions and as-of schedules."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from assets.metadata import markdown_table
from assets.registry import artifact_digest, new_version
from assets.serving import PREGAME_COLUMNS, RESULT_COLUMNS, as_of_schedule
from bullpen.store import GAME_FRAME_COLUMNS


def test_markdown_table_keeps_one_row_per_record() -> None:
    table = markdown_table(["file", "reason"], [("GL2022.TXT", "a | b\nc"), ("x", 0.123456)])
    assert table.splitlines() == [
        "| file | reason |",
        "|---|---|",
        "| GL2022.TXT | a \\| b c |",
        "| x | 0.1235 |",
    ]


def test_version_names_kind_time_and_artifact() -> None:
    when = dt.datetime(2024, 3, 28, 9, 5, 7, tzinfo=dt.UTC)
    version = new_version("blend", b"artifact", when)
    assert version == f"blend-20240328090507-{artifact_digest(b'artifact')[:8]}"
    assert len(version) <= 64  # the registry's column width


def test_as_of_schedule_blanks_every_result_column() -> None:
    games = pd.DataFrame({c: [1] for c in GAME_FRAME_COLUMNS})
    schedule = as_of_schedule(games)
    assert set(PREGAME_COLUMNS) | set(RESULT_COLUMNS) == set(GAME_FRAME_COLUMNS)
    assert {"home_score", "away_score", "home_k", "away_pitchers_used"} <= set(RESULT_COLUMNS)
    assert schedule[list(RESULT_COLUMNS)].isna().all().all()
    assert (schedule[list(PREGAME_COLUMNS)] == 1).all().all()
    assert np.all(games[list(RESULT_COLUMNS)] == 1)  # the input is left alone
