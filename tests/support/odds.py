"""FIXTURE odds for tests: The Odds API v4 and CSV shapes with made-up prices.

No odds data exists on this machine. Every price built here is invented for a
test and labelled so (`book` keys are real Odds API keys, the numbers are not
market data): nothing here may be presented as a market's line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

# Current full names (as The Odds API writes them) of the clubs the tests use.
NAMES = {
    "NYA": "New York Yankees", "BOS": "Boston Red Sox", "CLE": "Cleveland Guardians",
    "OAK": "Oakland Athletics", "TBA": "Tampa Bay Rays", "DET": "Detroit Tigers",
    "CHA": "Chicago White Sox", "MIN": "Minnesota Twins", "KCA": "Kansas City Royals",
    "SEA": "Seattle Mariners", "TEX": "Texas Rangers", "HOU": "Houston Astros",
    "ANA": "Los Angeles Angels", "TOR": "Toronto Blue Jays", "BAL": "Baltimore Orioles",
    "ATL": "Atlanta Braves", "MIA": "Miami Marlins", "NYN": "New York Mets",
    "PHI": "Philadelphia Phillies", "WAS": "Washington Nationals", "CHN": "Chicago Cubs",
    "CIN": "Cincinnati Reds", "MIL": "Milwaukee Brewers", "PIT": "Pittsburgh Pirates",
    "SLN": "St. Louis Cardinals", "ARI": "Arizona Diamondbacks", "COL": "Colorado Rockies",
    "LAN": "Los Angeles Dodgers", "SDN": "San Diego Padres", "SFN": "San Francisco Giants",
}  # fmt: skip
# A market for the online tests (tests/online/conftest.py `market`): three 2023 games on a
# store that knows 2022, the first with two books' FIXTURE lines, the second with one.
MARKET_DAY = dt.date(2023, 3, 30)
MARKET_GAMES = (("BOS202303300", "BOS", "BAL"), ("NYA202303300", "NYA", "SFN"),
                ("CHN202303300", "CHN", "MIL"))  # fmt: skip
MARKET_AT = dt.datetime(2023, 3, 30, 12, tzinfo=dt.UTC)
BOOKS = ("draftkings", "fanduel", "betmgm", "caesars", "pointsbetus", "betrivers",
         "bovada", "betonlineag", "lowvig", "mybookieag")  # fmt: skip


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bookmaker(key: str, home: str, away: str, home_price: Any, away_price: Any,
              at: dt.datetime) -> dict[str, Any]:  # fmt: skip
    """One FIXTURE bookmaker entry with an h2h market (prices as given, not checked)."""
    return {
        "key": key, "title": key.title(), "last_update": iso(at),
        "markets": [{"key": "h2h", "last_update": iso(at), "outcomes": [
            {"name": NAMES[home], "price": home_price},
            {"name": NAMES[away], "price": away_price},
        ]}],
    }  # fmt: skip


def event(
    home: str, away: str, starts: dt.datetime, books: list[dict[str, Any]], event_id: str = ""
) -> dict[str, Any]:
    return {
        "id": event_id or f"fixture-{home}-{away}-{starts:%Y%m%d%H%M}",
        "sport_key": "baseball_mlb", "sport_title": "MLB", "commence_time": iso(starts),
        "home_team": NAMES[home], "away_team": NAMES[away], "bookmakers": books,
    }  # fmt: skip


def spread_prices(index: int, book: int) -> tuple[float, float]:
    """Deterministic FIXTURE decimal prices around a 4.5 % margin, varying by game and book."""
    p_home = 0.40 + 0.02 * (index % 10) + 0.004 * (book % 5)
    margin = 1.045
    return round(1 / (p_home * margin), 3), round(1 / ((1 - p_home) * margin), 3)
