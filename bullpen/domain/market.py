"""The betting market for a game: line snapshots, the vig-free consensus, the best price.

A snapshot is one book's two-way moneyline for one game at one time, in decimal
odds. For a board, each book counts once, at its latest snapshot (`latest_per_book`);
the game's closing line is each book's last snapshot before first pitch
(`closing_per_book`). Consensus fair probability is proportional de-vig per book
(implied 1/decimal per side, scaled to sum to 1) averaged over books.
Pure functions; nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bullpen.domain.odds import check_decimal, decimal_to_probability, remove_vig

SIDES = ("home", "away")


@dataclass(frozen=True, slots=True)
class OddsSnapshot:
    """One book's moneyline for one game at `taken_at` (UTC), in decimal odds."""

    game_id: str
    book: str
    taken_at: dt.datetime
    home_decimal: float
    away_decimal: float
    source: str

    def __post_init__(self) -> None:
        check_decimal(self.home_decimal)
        check_decimal(self.away_decimal)
        if self.taken_at.tzinfo is None:
            raise ValueError("taken_at must carry a UTC offset")

    def price(self, side: str) -> float:
        return self.home_decimal if side == "home" else self.away_decimal

    def fair(self) -> tuple[float, float]:
        """Proportionally de-vigged (p_home, p_away) of this book's line."""
        home, away = remove_vig(
            [decimal_to_probability(self.home_decimal), decimal_to_probability(self.away_decimal)]
        )
        return home, away


@dataclass(frozen=True, slots=True)
class BestPrice:
    decimal: float
    book: str


def latest_per_book(snapshots: Iterable[OddsSnapshot]) -> list[OddsSnapshot]:
    """Each (game, book)'s most recent snapshot; ties on time keep the later one given."""
    latest: dict[tuple[str, str], OddsSnapshot] = {}
    for snap in snapshots:
        key = (snap.game_id, snap.book)
        if key not in latest or snap.taken_at >= latest[key].taken_at:
            latest[key] = snap
    return sorted(latest.values(), key=lambda s: (s.game_id, s.book))


def closing_per_book(
    snapshots: Iterable[OddsSnapshot], first_pitch: dt.datetime
) -> list[OddsSnapshot]:
    """Each book's last snapshot taken before `first_pitch`: the closing line."""
    return latest_per_book(s for s in snapshots if s.taken_at < first_pitch)


def consensus(books: Sequence[OddsSnapshot]) -> tuple[float, float]:
    """Mean over books of each book's de-vigged (p_home, p_away); one snapshot per book."""
    if not books:
        raise ValueError("a consensus needs at least one book's line")
    fair = [snap.fair() for snap in books]
    return sum(f[0] for f in fair) / len(fair), sum(f[1] for f in fair) / len(fair)


def best_price(books: Sequence[OddsSnapshot], side: str) -> BestPrice:
    """The highest decimal price for `side` across books; a tie goes to the first book by name."""
    if not books:
        raise ValueError("a best price needs at least one book's line")
    best = min(books, key=lambda s: (-s.price(side), s.book))
    return BestPrice(best.price(side), best.book)


def odds_revision(books: Iterable[OddsSnapshot]) -> str:
    """A short hash of the snapshots a board is built from: it changes when any line does."""
    digest = hashlib.sha256()
    for s in sorted(books, key=lambda s: (s.game_id, s.book, s.taken_at)):
        digest.update(
            f"{s.game_id}|{s.book}|{s.taken_at.isoformat()}|"
            f"{s.home_decimal!r}|{s.away_decimal!r}\n".encode()
        )
    return digest.hexdigest()[:16]
