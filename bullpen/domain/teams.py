"""Retrosheet team codes known to the platform.

A code outside this set in a game log is a data error (or a new franchise that
must be added here deliberately), so ingestion quarantines the line.
"""

# Every franchise code Retrosheet uses from 1969 on (the data bundled covers 2000-2023),
# and ATH: the Athletics, with no city, from 2025 (box scores and Retrosheet).
KNOWN_TEAMS: frozenset[str] = frozenset(
    {
        "ANA", "ARI", "ATH", "ATL", "BAL", "BOS", "CAL", "CHA", "CHN", "CIN", "CLE",
        "COL", "DET", "FLO", "HOU", "KCA", "LAN", "MIA", "MIL", "MIN", "ML4",
        "MON", "NYA", "NYN", "OAK", "PHI", "PIT", "SDN", "SE1", "SEA", "SFN",
        "SLN", "TBA", "TEX", "TOR", "WAS", "WS2",
    }
)  # fmt: skip

# A franchise that moved or was renamed keeps one identity for team-strength
# features: ratings carry over from Montreal to Washington, Florida to Miami and
# Oakland to the Athletics of Sacramento.
FRANCHISE: dict[str, str] = {
    "ATH": "OAK",
    "MON": "WAS",
    "FLO": "MIA",
    "CAL": "ANA",
    "ML4": "MIL",
    "SE1": "MIL",
    "WS2": "TEX",
}


def franchise(code: str) -> str:
    return FRANCHISE.get(code, code)


# A club whose Retrosheet code changed without a move of franchise identity: the
# code it goes by from a season on. Feeds that name clubs (MLB team ids, team
# names) ask `code_in` so their game ids meet the game logs' (home code + date).
RENAMED: dict[str, tuple[int, str]] = {"OAK": (2025, "ATH")}


def code_in(code: str, season: int) -> str:
    """The code `code`'s club goes by in `season` (OAK is ATH from 2025, ATH is OAK before)."""
    for old, (first, new) in RENAMED.items():
        if code in (old, new):
            return new if season >= first else old
    return code
