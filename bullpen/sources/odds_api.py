"""The Odds API v4: MLB moneylines (`GET /v4/sports/baseball_mlb/odds?markets=h2h`).

The payload is a list of events (`id`, `commence_time` in UTC, full `home_team` and
`away_team` names), each with `bookmakers[]` (`key`, `title`, `last_update`,
`markets[]`); the `h2h` market's `outcomes[]` are `{name, price}` with a team's full
name. Prices are decimal or American as requested (`oddsFormat`); the payload does
not say which, so the caller does.

`parse_odds_payload` never raises on bad data: an event it cannot use is a
`FeedIssue` at `[i]`, a bookmaker's line at `[i].bookmakers[j]` (an unknown book
key, a missing outcome, an impossible price), and the rest is still read.
`OddsApiClient` polls the endpoint (a configurable base URL; the API key is sent
but never written into an error or a log).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx

from bullpen.domain.odds import OddsError
from bullpen.domain.schedule import FeedIssue
from bullpen.domain.team_names import team_code
from bullpen.domain.teams import code_in
from bullpen.sources.errors import SourceError
from bullpen.sources.http_json import JsonHttpClient
from bullpen.sources.odds_lines import (
    OddsLine,
    Unusable,
    check_margin,
    eastern_date,
    to_decimal,
    utc_time,
)

DEFAULT_BASE_URL = "https://api.the-odds-api.com"
ODDS_PATH = "/v4/sports/baseball_mlb/odds"
SOURCE = "the-odds-api"
# A full day is ~15 events x 10 books, ~100 KB. A body far past that is not a day's odds.
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
_MAX_ISSUE_TEXT = 10_000
# The Odds API's US bookmaker keys (regions us and us2). A key not here is quarantined
# rather than trusted: a new book is added here on purpose, after a look at its lines.
KNOWN_BOOKS = frozenset({
    "ballybet", "betanysports", "betmgm", "betonlineag", "betparx", "betrivers", "betus",
    "bovada", "caesars", "draftkings", "espnbet", "fanatics", "fanduel", "fliff",
    "hardrockbet", "lowvig", "mybookieag", "pointsbetus", "superbook", "twinspires",
    "unibet_us", "williamhill_us", "windcreek", "wynnbet", "betfair_ex_us", "foxbet",
    "barstool", "circasports", "sisportsbook", "tipico_us", "betway",
})  # fmt: skip


class OddsApiError(SourceError):
    """Odds that could not be fetched or read as a whole."""


def parse_odds_payload(
    payload: Any, source: str, price_format: str
) -> tuple[list[OddsLine], list[FeedIssue]]:
    """Every usable bookmaker line of every event, and an issue for each unusable part."""
    if not isinstance(payload, list):
        reason = "not The Odds API's odds: expected a list of events"
        return [], [_issue(source, "payload", reason, payload)]
    lines: list[OddsLine] = []
    issues: list[FeedIssue] = []
    for i, event in enumerate(payload):
        try:
            head = _event(event)
        except Unusable as exc:
            issues.append(_issue(source, f"[{i}]", str(exc), event))
            continue
        books = event.get("bookmakers")
        if not isinstance(books, list):
            issues.append(_issue(source, f"[{i}]", "no 'bookmakers' list", event))
            continue
        for j, book in enumerate(books):
            location = f"[{i}].bookmakers[{j}]"
            try:
                lines.append(_line(head, book, source, location, price_format))
            except (Unusable, OddsError) as exc:
                issues.append(_issue(source, location, f"{head[4]}: {exc}", book))
    return lines, issues


def _event(raw: Any) -> tuple[dt.date, str, str, dt.datetime, str]:
    """(US Eastern date, home code, away code, commence time, "id away@home")."""
    if not isinstance(raw, dict):
        raise Unusable("not an event: expected an object")
    home, away = team_code(raw.get("home_team")), team_code(raw.get("away_team"))
    if home is None or away is None:
        raise Unusable(f"unknown team: home_team {raw.get('home_team')!r}, "
                        f"away_team {raw.get('away_team')!r}")  # fmt: skip
    starts = utc_time(raw.get("commence_time"), "commence_time")
    date = eastern_date(starts)
    home, away = code_in(home, date.year), code_in(away, date.year)
    return date, home, away, starts, f"{raw.get('id')} {away}@{home}"


def _line(
    head: tuple[dt.date, str, str, dt.datetime, str], book: Any, source: str, location: str,
    price_format: str,
) -> OddsLine:  # fmt: skip
    if not isinstance(book, dict):
        raise Unusable("not a bookmaker: expected an object")
    key = book.get("key")
    if key not in KNOWN_BOOKS:
        raise Unusable(f"unknown bookmaker key {key!r}")
    market = _h2h(book)
    taken = utc_time(market.get("last_update") or book.get("last_update"), "last_update")
    date, home, away, starts, _ = head
    names = {_season_code(o.get("name"), date.year): o.get("price") for o in market["outcomes"]
             if isinstance(o, dict)}  # fmt: skip
    if home not in names or away not in names or len(market["outcomes"]) != 2:
        raise Unusable(
            f"{key}: h2h needs exactly the outcomes of both teams, got "
            f"{[o.get('name') for o in market['outcomes'] if isinstance(o, dict)]}"
        )
    home_decimal = to_decimal(names[home], price_format)
    away_decimal = to_decimal(names[away], price_format)
    check_margin(home_decimal, away_decimal)
    return OddsLine(
        date=date, home=home, away=away, book=key, taken_at=taken, home_decimal=home_decimal,
        away_decimal=away_decimal, source=source, location=location,
        raw=_text(book), commence_time=starts,
    )  # fmt: skip


def _season_code(name: object, season: int) -> str | None:
    code = team_code(name)
    return code_in(code, season) if code else None


def _h2h(book: dict[str, Any]) -> dict[str, Any]:
    markets = book.get("markets")
    if not isinstance(markets, list):
        raise Unusable(f"{book.get('key')}: no 'markets' list")
    found = [m for m in markets if isinstance(m, dict) and m.get("key") == "h2h"]
    if len(found) != 1 or not isinstance(found[0].get("outcomes"), list):
        raise Unusable(f"{book.get('key')}: expected one h2h market with outcomes")
    return found[0]


def _text(raw: Any) -> str:
    text = json.dumps(raw, ensure_ascii=False, sort_keys=True, default=repr)
    if len(text) > _MAX_ISSUE_TEXT:
        text = f"{text[:_MAX_ISSUE_TEXT]}… (truncated from {len(text)} characters)"
    return text


def _issue(source: str, location: str, reason: str, raw: Any) -> FeedIssue:
    return FeedIssue(source, location, reason, _text(raw))


class OddsApiClient(JsonHttpClient):
    """Polls The Odds API's MLB moneylines (retries and bounds: `JsonHttpClient`)."""

    error = OddsApiError
    what = "a day's odds"

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = "",
        price_format: str = "decimal",
        timeout_s: float = 5.0,
        retries: int = 2,
        *,
        retry_wait_s: float = 0.5,
        max_retry_wait_s: float = 5.0,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            timeout_s, retries, retry_wait_s=retry_wait_s, max_retry_wait_s=max_retry_wait_s,
            max_bytes=MAX_PAYLOAD_BYTES, http=http,
        )  # fmt: skip
        self.base_url = base_url
        self.api_key = api_key
        self.price_format = price_format

    def url(self, with_key: bool = True) -> str:
        params = {"regions": "us", "markets": "h2h", "oddsFormat": self.price_format}
        if with_key:
            params["apiKey"] = self.api_key
        return str(httpx.URL(f"{self.base_url.rstrip('/')}{ODDS_PATH}", params=params))

    def fetch(self) -> Any:
        """The current odds payload; OddsApiError (naming the URL without the key) if not."""
        return self.get_json(self.url(), shown=self.url(with_key=False))

    def lines(self, now: dt.datetime) -> tuple[list[OddsLine], list[FeedIssue]]:
        source = f"{SOURCE}:{now.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
        return parse_odds_payload(self.fetch(), source, self.price_format)
