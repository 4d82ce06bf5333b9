"""PitcherIndex: a feed's pitcher name and team → the Retrosheet id the store knows, or no guess.

The rows are fixtures written for these tests (made-up ids and dates), in the
shape the store gives: (retrosheet_id, name as in the game logs, team, last date
seen for that team).
"""

from __future__ import annotations

import datetime as dt

import pytest

from bullpen.domain.pitchers import PitcherIndex, Sighting, normalize_name

D = dt.date

ROWS = [
    ("coleg001", "Gerrit Cole", "NYA", D(2023, 6, 25)),
    ("coleg001", "Gerrit Cole", "PIT", D(2017, 9, 28)),
    ("ramij001", "José Ramírez", "CLE", D(2023, 6, 20)),
    ("mccul001", "Lance McCullers", "HOU", D(2022, 10, 1)),
    ("franj001", "J. P. France", "HOU", D(2023, 6, 30)),
    ("ograc001", "Chris O'Grady", "MIA", D(2019, 9, 1)),
    # Two different pitchers called Joe Smith: one now with NYA, one who left NYA for BOS.
    ("smitj001", "Joe Smith", "NYA", D(2023, 6, 28)),
    ("smitj002", "Joe Smith", "NYA", D(2021, 8, 1)),
    ("smitj002", "Joe Smith", "BOS", D(2023, 6, 27)),
    # Two Will Browns who both pitch for SEA: no way to tell them apart.
    ("broww001", "Will Brown", "SEA", D(2023, 6, 1)),
    ("broww002", "Will Brown", "SEA", D(2023, 6, 2)),
    # Two Sam Greens, neither ever with TOR.
    ("grees001", "Sam Green", "OAK", D(2023, 5, 1)),
    ("grees002", "Sam Green", "KCA", D(2023, 5, 2)),
]


@pytest.fixture
def index() -> PitcherIndex:
    return PitcherIndex(ROWS)


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("Gerrit Cole", "gerrit cole"),
        ("  GERRIT   cole ", "gerrit cole"),
        ("José Ramírez", "jose ramirez"),
        ("Lance McCullers Jr.", "lance mccullers"),
        ("Ken Griffey, Sr.", "ken griffey"),
        ("Cal Ripken III", "cal ripken"),
        ("J. P. France", "jp france"),
        ("J.P. France", "jp france"),
        ("JP France", "jp france"),
        ("Chris O'Grady", "chris ogrady"),
        ("Hyun-Jin Ryu", "hyun jin ryu"),
        ("Jr.", "jr"),  # a suffix alone is still a name, not nothing
        ("...", ""),
    ],
)
def test_normalize_name(name: str, normalized: str) -> None:
    assert normalize_name(name) == normalized


def test_exact_name_on_the_team(index: PitcherIndex) -> None:
    match = index.match("NYA", "Gerrit Cole")
    assert (match.pitcher_id, match.how, match.matched) == ("coleg001", "exact", True)
    assert not match.other_team


@pytest.mark.parametrize(
    ("team", "name", "pitcher_id"),
    [
        ("CLE", "Jose Ramirez", "ramij001"),  # accents
        ("HOU", "Lance McCullers Jr.", "mccul001"),  # suffix
        ("HOU", "JP France", "franj001"),  # initials
        ("MIA", "chris o'grady", "ograc001"),  # case
    ],
)
def test_normalized_name_on_the_team(
    index: PitcherIndex, team: str, name: str, pitcher_id: str
) -> None:
    match = index.match(team, name)
    assert (match.pitcher_id, match.how) == (pitcher_id, "normalized")


def test_similar_but_different_name_is_not_guessed(index: PitcherIndex) -> None:
    for name in ("Gerrit Coal", "Gerit Cole", "G. Cole", "Cole"):
        match = index.match("NYA", name)
        assert match.pitcher_id is None
        assert match.how == f"unmatched: no pitcher named {name!r} has been seen"


def test_empty_name_is_unmatched(index: PitcherIndex) -> None:
    assert index.match("NYA", "  ").how == "unmatched: no name given"


def test_unique_name_on_another_team_is_matched_and_says_so(index: PitcherIndex) -> None:
    # A trade the store has not seen yet: Cole starting for BOS.
    match = index.match("BOS", "Gerrit Cole")
    assert match.pitcher_id == "coleg001"
    assert match.how == "exact, other team: last seen with NYA on 2023-06-25"
    assert match.other_team


def test_the_pitcher_now_with_the_team_is_preferred(index: PitcherIndex) -> None:
    assert index.match("NYA", "Joe Smith").pitcher_id == "smitj001"
    assert index.match("BOS", "Joe Smith").pitcher_id == "smitj002"


def test_a_former_team_is_preferred_over_strangers() -> None:
    # Neither Joe Smith is with NYA now, and only smitj002 ever was: his NYA past decides.
    rows = [
        ("smitj001", "Joe Smith", "LAN", D(2023, 6, 29)),
        ("smitj002", "Joe Smith", "NYA", D(2021, 8, 1)),
        ("smitj002", "Joe Smith", "BOS", D(2023, 6, 27)),
    ]
    match = PitcherIndex(rows).match("NYA", "Joe Smith")
    assert match.pitcher_id == "smitj002"
    assert match.how == "exact, other team: last seen with BOS on 2023-06-27"


def test_two_pitchers_with_the_same_name_on_the_team_is_ambiguous(index: PitcherIndex) -> None:
    match = index.match("SEA", "Will Brown")
    assert match.pitcher_id is None
    assert match.how == (
        "unmatched: 2 pitchers named 'Will Brown' last pitched for SEA: broww001, broww002"
    )


def test_same_name_on_two_other_teams_is_ambiguous(index: PitcherIndex) -> None:
    match = index.match("TOR", "Sam Green")
    assert match.pitcher_id is None
    assert match.how == "unmatched: 2 pitchers named 'Sam Green' league-wide: grees001, grees002"


def test_rows_merge_per_pitcher(index: PitcherIndex) -> None:
    assert len(index) == 11
    assert "coleg001" in index and "nobody01" not in index
    assert index.last_seen("coleg001") == Sighting("NYA", D(2023, 6, 25))
    assert index.last_seen("nobody01") is None
    assert index.name_of("ramij001") == "José Ramírez"
    assert index.is_named("ramij001", "jose ramirez")
    assert not index.is_named("ramij001", "Jose Ramos")


def test_same_day_on_two_teams_picks_one_whatever_the_row_order() -> None:
    day = D(2023, 7, 1)
    rows = [("doubd001", "Dee Double", "TEX", day), ("doubd001", "Dee Double", "ATL", day)]
    assert PitcherIndex(rows).last_seen("doubd001") == Sighting("ATL", day)
    assert PitcherIndex(rows[::-1]).last_seen("doubd001") == Sighting("ATL", day)
