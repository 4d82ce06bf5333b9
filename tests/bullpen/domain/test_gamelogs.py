from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bullpen.domain.gamelogs import FIELD_COUNT, game_id, parse_lines


@pytest.fixture(scope="module")
def good_lines(gamelogs_dir: Path) -> list[str]:
    return (gamelogs_dir / "GL2022.TXT").read_text(encoding="latin-1").splitlines()[:20]


def test_parses_real_lines(good_lines: list[str]) -> None:
    result = parse_lines(good_lines, "GL2022.TXT")
    assert not result.quarantined
    first = result.games[0]
    assert first.game_id == "ARI202204070"
    assert (first.home, first.away, first.date) == ("ARI", "SDN", dt.date(2022, 4, 7))
    assert (first.away_score, first.home_score) == (2, 4)
    assert (first.away_sp_id, first.home_sp_id) == ("darvy001", "bumgm001")
    assert first.source_line == good_lines[0]


def test_a_2025_athletics_home_game_parses(good_lines: list[str]) -> None:
    # From 2025 Retrosheet writes ATH for the Athletics (no city): a held-out later
    # season must load whole, not lose a club's games to quarantine.
    fields = _fields(good_lines[0])
    fields[0], fields[6] = "20250328", "ATH"
    result = parse_lines([_join(fields)], "GL2025.TXT")
    assert not result.quarantined
    assert result.games[0].game_id == "ATH202503280"


def test_game_id_contract() -> None:
    assert game_id("NYA", dt.date(2010, 4, 4), 0) == "NYA201004040"


def _fields(line: str) -> list[str]:
    import csv

    return next(csv.reader([line]))


def _join(fields: list[str]) -> str:
    return ",".join(f'"{f}"' for f in fields)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda f: f[:50], f"expected {FIELD_COUNT} fields, found 50"),
        (lambda f: [*f, "extra"], f"expected {FIELD_COUNT} fields, found 162"),
        (lambda f: ["20221340", *f[1:]], "bad date '20221340'"),
        (lambda f: ["2022-04-07", *f[1:]], "bad date '2022-04-07'"),
        (lambda f: [*f[:10], "x", *f[11:]], "field 11 (home score) is not a number: 'x'"),
        (lambda f: [*f[:9], "", *f[10:]], "field 10 (visiting score) is not a number: ''"),
        (lambda f: [*f[:6], "XYZ", *f[7:]], "field 7 (home team) is an unknown team code: 'XYZ'"),
        (lambda f: [f[0], "7", *f[2:]], "field 2 (game number) must be one of 0-3, found '7'"),
    ],
)
def test_bad_lines_are_quarantined_with_reason(good_lines, mutate, reason) -> None:
    bad = _join(mutate(_fields(good_lines[1])))
    result = parse_lines([good_lines[0], bad, good_lines[2]], "GL2022.TXT")
    assert [g.game_id for g in result.games] == [
        parse_lines([good_lines[i]], "x").games[0].game_id for i in (0, 2)
    ]
    (line,) = result.quarantined
    assert (line.source, line.line_number, line.text) == ("GL2022.TXT", 2, bad)
    assert reason in line.reason
    assert str(line).startswith("GL2022.TXT:2: ")


def test_truncated_line_is_quarantined(good_lines: list[str]) -> None:
    truncated = good_lines[3][: len(good_lines[3]) // 2]
    result = parse_lines([truncated], "GL2022.TXT")
    assert not result.games
    assert result.quarantined[0].line_number == 1


def test_duplicate_game_id_is_quarantined(good_lines: list[str]) -> None:
    result = parse_lines([good_lines[0], good_lines[0]], "f")
    assert len(result.games) == 1
    assert "duplicate game id ARI202204070 (first on line 1)" in result.quarantined[0].reason


def test_blank_lines_and_empty_input() -> None:
    assert parse_lines(["", "  \n"], "f").games == []
    assert parse_lines([], "f").quarantined == []
