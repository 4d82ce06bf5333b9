"""A plain odds CSV: ``date,home,away,game_number,book,home_price,away_price,format,taken_at``.

`date` is the game's date (YYYY-MM-DD), `home`/`away` Retrosheet codes, `game_number`
0, 1 or 2 as in game ids, `format` ``decimal`` or ``american`` (per row), `taken_at`
an ISO 8601 time with its UTC offset (``Z`` or ``+00:00``; a time without one is
refused, not guessed). A row that cannot be used is a `FeedIssue` naming the file and
line; the other rows are still read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from bullpen.domain.odds import OddsError
from bullpen.domain.schedule import FeedIssue
from bullpen.domain.teams import KNOWN_TEAMS
from bullpen.sources.odds_lines import (
    PRICE_FORMATS,
    OddsLine,
    Unusable,
    check_margin,
    to_decimal,
    utc_time,
)

COLUMNS = ("date", "home", "away", "game_number", "book", "home_price", "away_price", "format",
           "taken_at")  # fmt: skip


def parse_odds_csv(text: str, source: str) -> tuple[list[OddsLine], list[FeedIssue]]:
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(h.strip() for h in reader.fieldnames or ())
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [FeedIssue(source, "line 1", f"missing columns {missing}", ",".join(header))]
    lines: list[OddsLine] = []
    issues: list[FeedIssue] = []
    for number, row in enumerate(reader, start=2):
        values = {(k or "").strip(): (v or "").strip() for k, v in row.items()
                  if isinstance(v, str)}  # fmt: skip
        raw = ",".join(values.get(c, "") for c in COLUMNS)
        try:
            lines.append(_line(values, source, f"line {number}", raw))
        except (Unusable, OddsError) as exc:
            issues.append(FeedIssue(source, f"line {number}", str(exc), raw))
    return lines, issues


def _line(values: dict[str, str], source: str, location: str, raw: str) -> OddsLine:
    home, away = values["home"], values["away"]
    for side, team in (("home", home), ("away", away)):
        if team not in KNOWN_TEAMS:
            raise Unusable(f"{side} {team!r} is not a Retrosheet team code")
    price_format = values["format"].lower()
    if price_format not in PRICE_FORMATS:
        raise Unusable(f"format must be one of {', '.join(PRICE_FORMATS)}, got {price_format!r}")
    home_decimal = to_decimal(values["home_price"], price_format)
    away_decimal = to_decimal(values["away_price"], price_format)
    check_margin(home_decimal, away_decimal)
    if not values["book"]:
        raise Unusable("book is empty")
    return OddsLine(
        date=_date(values["date"]), home=home, away=away, book=values["book"].lower(),
        taken_at=utc_time(values["taken_at"], "taken_at"), home_decimal=home_decimal,
        away_decimal=away_decimal, source=source, location=location, raw=raw,
        game_number=_game_number(values["game_number"]),
    )  # fmt: skip


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Unusable(f"date must be YYYY-MM-DD, got {value!r}") from None


def _game_number(value: str) -> int:
    if value not in {"0", "1", "2"}:
        raise Unusable(f"game_number must be 0, 1 or 2, got {value!r}")
    return int(value)
