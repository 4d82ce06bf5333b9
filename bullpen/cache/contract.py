"""The prediction cache's public contract (schema `v1`): key names and value bytes.

The online tier and the batch side both import it, and other programs may read
the keys directly. Writing the bytes is `bullpen.cache.writer`'s job; which
model the pointer names is `bullpen.serving.active`'s.

Keys (UTF-8 strings)
--------------------
``bp:v1:rev:{feature_version}:{yyyymmdd}``
    The date's revision: a hash of the inputs (features and announced starters) of
    every game on it (`bullpen.domain.inputs.date_revision`), as ASCII text. The
    keys below carry it, so when a starter is scratched and the date's features are
    recomputed its keys change: no cache layer can serve the old price. Written after
    the values it names (`bullpen.serving.revisions`), and published on
    ``bp:v1:inputs-changed`` so every server drops its cached copy at once.
``bp:v1:pred:{model_version}:{feature_version}:{game_id}:{revision}``
    One game's prediction: the exact JSON body that
    ``GET /v1/games/{game_id}/prediction`` returns (see `prediction_body`); the
    revision is that of the game's date (the yyyymmdd in its id).
``bp:v1:day:{model_version}:{feature_version}:{yyyymmdd}:{revision}``
    One date's slate: the exact JSON body of ``GET /v1/games?date=YYYY-MM-DD``
    (see `day_body`), so the list route is one GET of pre-encoded bytes — one
    round trip to one node whatever the topology.
``bp:v1:rev:odds:{yyyymmdd}``
    The date's odds revision: a hash of each book's latest line for its games
    (`bullpen.domain.market.odds_revision`), moved by `bullpen.serving.board` after
    the boards it names and published on ``bp:v1:inputs-changed`` as
    ``odds:{yyyymmdd}`` (the same message shape, with ``odds`` for the version).
``bp:v1:board:{model_version}:{feature_version}:{yyyymmdd}:{revision}:{odds_revision}``
    One date's best-bet board: the exact JSON body of ``GET /v1/edges?date=`` with the
    default Kelly fraction and cap (`bullpen.domain.board`). It carries both
    revisions, so a new line or a re-priced game changes the key.
``bp:v1:explain:{model_version}:{feature_version}:{game_id}:{revision}``
    One game's explanation under that model (see `explanation_body`): the revision is
    the one its prediction key carries, so a scratched starter changes this key too.
    Filled by the API on demand (``?explain=true``), never warmed: explanations are
    opt-in and kept apart from the plain bodies, whose bytes they never touch.
``bp:v1:feat:{feature_version}:{game_id}``
    The pre-game features a game's predictions came from: JSON object of
    feature name → number (null for missing), so a prediction can be audited
    or recomputed without the store.
``bp:v1:active``
    The active-model pointer: JSON ``{"model_version": str, "feature_version": str}``.
``bp:v1:model-changed`` (pub/sub channel)
    Every pointer change is published here (`bullpen.serving.active` writes both);
    servers drop their in-process caches and re-read the pointer.
``bp:v1:inputs-changed`` (pub/sub channel)
    ``{feature_version}:{yyyymmdd}`` of every date whose revision changed.
``bp:v1:lock:{key}``
    A short single-flight lock (SET NX PX) held while one server computes a miss.
``bp:v1:rl:{api_key_id}``
    A rate-limit GCRA state (one key per API key, so it is cluster-safe).

No key carries a ``{hash tag}``: keys spread over every slot and every shard,
and no operation touches two keys at once.

Values
------
Compact JSON (``separators=(",", ":")``), UTF-8, with these fields for a game:
``game_id, date (YYYY-MM-DD), home, away (Retrosheet codes; away may be null),
p_home, p_away, fair_odds {home, away: {decimal, american}}, starters {home, away:
{id (Retrosheet; null: a pitcher the store has never seen), name}} (null before inputs
were recorded), inputs (the game's inputs hash, or null), model_version,
feature_version, computed_at (ISO 8601 UTC), in_sample (true when the game's date is
inside the model's training window: its number is not a forecast), cached (always
true in the cache)``.
A day value is ``{date, model_version, feature_version, count, games: [game…],
cached}``. An explanation value is ``{game_id, date, model_version, feature_version,
inputs, computed_at, p_home (the same number as the game value), base_logit, method (the
decomposition, `bullpen.domain.explain`), contributions: [{feature, name (plain words),
value (null: missing), logit, p_without}…], other_logit, cached}`` with every non-zero
contribution, largest |logit| first, and ``other_logit`` 0; the API answers its first
``top`` and folds the rest into ``other_logit`` (`top_contributions`), so
``base_logit + sum(logit) + other_logit`` is logit(p_home) to the 6-place rounding.
Every value carries when and from what it was computed, and every key has a TTL, so
nothing stale is indistinguishable from fresh.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _json_str
from operator import itemgetter
from typing import Any

from bullpen.domain.odds import probability_to_american, probability_to_decimal

SCHEMA = "v1"
PREFIX = f"bp:{SCHEMA}"
ACTIVE_KEY = f"{PREFIX}:active"
MODEL_CHANGED_CHANNEL = f"{PREFIX}:model-changed"
INPUTS_CHANGED_CHANNEL = f"{PREFIX}:inputs-changed"


def prediction_key(model_version: str, feature_version: str, game_id: str, revision: str) -> str:
    return f"{PREFIX}:pred:{model_version}:{feature_version}:{game_id}:{revision}"


def explanation_key(model_version: str, feature_version: str, game_id: str, revision: str) -> str:
    return f"{PREFIX}:explain:{model_version}:{feature_version}:{game_id}:{revision}"


def features_key(feature_version: str, game_id: str) -> str:
    return f"{PREFIX}:feat:{feature_version}:{game_id}"


def day_key(model_version: str, feature_version: str, date: dt.date, revision: str) -> str:
    return f"{PREFIX}:day:{model_version}:{feature_version}:{date:%Y%m%d}:{revision}"


def revision_key(feature_version: str, date: dt.date) -> str:
    return f"{PREFIX}:rev:{feature_version}:{date:%Y%m%d}"


ODDS_REVISION = "odds"  # stands for the feature version in the odds revision's key and message


def odds_revision_key(date: dt.date) -> str:
    return revision_key(ODDS_REVISION, date)


def board_key(
    model_version: str, feature_version: str, date: dt.date, revision: str, odds_revision: str
) -> str:
    return (
        f"{PREFIX}:board:{model_version}:{feature_version}:{date:%Y%m%d}:{revision}:{odds_revision}"
    )


def game_revision_key(feature_version: str, game_id: str) -> str:
    """`revision_key` of the date in a game id, without parsing it (the hot path's)."""
    return f"{PREFIX}:rev:{feature_version}:{game_id[3:11]}"


def changed_message(feature_version: str, date: dt.date) -> str:
    """What `INPUTS_CHANGED_CHANNEL` carries for one date (`parse_changed` reads it)."""
    return f"{feature_version}:{date:%Y%m%d}"


def parse_changed(message: bytes | str) -> tuple[str, dt.date]:
    text = message.decode() if isinstance(message, bytes) else message
    feature_version, _, day = text.rpartition(":")
    return feature_version, dt.datetime.strptime(day, "%Y%m%d").date()


def game_date(game_id: str) -> dt.date:
    """The date in a Retrosheet game id (home + yyyymmdd + number); ValueError if none."""
    digits = game_id[3:11]
    if len(digits) != 8 or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"no yyyymmdd in {game_id!r}")
    return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def lock_key(key: str) -> str:
    return f"{PREFIX}:lock:{key}"


def rate_limit_key(api_key_id: str | int) -> str:
    return f"{PREFIX}:rl:{api_key_id}"


@dataclass(frozen=True, slots=True)
class ActiveModel:
    """What the servers serve: a model version and the feature version it reads."""

    model_version: str
    feature_version: str

    def encode(self) -> bytes:
        return _dumps(
            {"model_version": self.model_version, "feature_version": self.feature_version}
        )

    @classmethod
    def decode(cls, raw: bytes | str) -> ActiveModel:
        data = json.loads(raw)
        return cls(str(data["model_version"]), str(data["feature_version"]))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def _round(x: float, places: int = 6) -> float:
    return round(float(x), places)


def _iso_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


def _iso_time(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _team(value: Any) -> str | None:
    # pandas hands missing strings over as None or NaN.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def prediction_body(
    row: Mapping[str, Any], model_version: str, feature_version: str, *, cached: bool,
    trained_until: dt.date | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The response body of one game from a predictions row (game_id, date, home, away,
    p_home, computed_at). Fair odds are derived here so every reader agrees on them;
    `trained_until` is the first date the model did not train on (None: untrained)."""
    p_home = float(row["p_home"])
    p_away = 1.0 - p_home
    date = _iso_date(row["date"])
    return {
        "game_id": str(row["game_id"]),
        "date": date,
        "home": _team(row.get("home")),
        "away": _team(row.get("away")),
        "p_home": _round(p_home),
        "p_away": _round(p_away),
        "fair_odds": {
            "home": _fair(p_home),
            "away": _fair(p_away),
        },
        "starters": starters(row),
        "inputs": _text(row.get("inputs_hash")),
        "model_version": model_version,
        "feature_version": feature_version,
        "computed_at": _iso_time(row["computed_at"]),
        "in_sample": in_sample(date, trained_until),
        "cached": cached,
    }


def starters(row: Mapping[str, Any]) -> dict[str, dict[str, str | None]] | None:
    """Each side's announced starter (id null: unknown to the store); None if not recorded."""
    if row.get("inputs_hash") is None:
        return None
    return {
        side: {"id": _text(row.get(f"{side}_sp_id")), "name": _text(row.get(f"{side}_sp_name"))}
        for side in ("home", "away")
    }


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    return str(value)


def in_sample(date: str | dt.date, trained_until: dt.date | None) -> bool:
    """Whether a game of `date` was inside the training window (the model saw its result)."""
    if trained_until is None:
        return False
    day = date if isinstance(date, dt.date) else dt.date.fromisoformat(date)
    return day < trained_until


def _fair(p: float) -> dict[str, float]:
    return {
        "decimal": _round(probability_to_decimal(p), 4),
        "american": _round(probability_to_american(p), 1),
    }


def day_body(
    date: dt.date, games: list[dict[str, Any]], model_version: str, feature_version: str,
    *, cached: bool,
) -> dict[str, Any]:  # fmt: skip
    return {
        "date": date.isoformat(),
        "model_version": model_version,
        "feature_version": feature_version,
        "count": len(games),
        "games": [{**game, "cached": cached} for game in games],
        "cached": cached,
    }


def explanation_body(
    game: Mapping[str, Any], p_home: float, base_logit: float, method: str,
    contributions: Iterable[Mapping[str, Any]], model_version: str, feature_version: str,
    *, cached: bool,
) -> dict[str, Any]:  # fmt: skip
    """A game's explanation from its features' row (game_id, date, inputs_hash,
    computed_at) and its ranked contributions ({feature, name, value, logit, p_without})."""
    return {
        "game_id": str(game["game_id"]),
        "date": _iso_date(game["date"]),
        "model_version": model_version,
        "feature_version": feature_version,
        "inputs": _text(game.get("inputs_hash")),
        "computed_at": _iso_time(game["computed_at"]),
        "p_home": _round(p_home),
        "base_logit": _round(base_logit),
        "method": method,
        "contributions": [_contribution(c) for c in contributions],
        "other_logit": 0.0,
        "cached": cached,
    }


def _contribution(c: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "feature": str(c["feature"]),
        "name": str(c["name"]),
        "value": _finite(c["value"]),
        "logit": _round(c["logit"]),
        "p_without": _round(c["p_without"]),
    }


def top_contributions(raw: bytes, top: int) -> bytes:
    """An explanation value with its first `top` contributions, the rest summed into
    ``other_logit``: one cached value answers every `top`."""
    body = json.loads(raw)
    ranked = body["contributions"]
    rest = sum(c["logit"] for c in ranked[top:])
    return _dumps(
        {**body, "contributions": ranked[:top], "other_logit": _round(body["other_logit"] + rest)}
    )


def encode(body: Mapping[str, Any]) -> bytes:
    return _dumps(body)


def warm_entries(
    rows: Iterable[Mapping[str, Any]], model_version: str, feature_version: str,
    revisions: Mapping[dt.date, str], trained_until: dt.date | None = None,
) -> dict[str, bytes]:  # fmt: skip
    """Every key and value that warming writes for `rows`: one per game, one per date,
    under the revision of each date (`revisions`, which must name every date of `rows`).

    The bytes are exactly ``encode(prediction_body(...))`` and ``encode(day_body(...))``
    (tests/cache/test_cache_encoding.py holds a reference), built from string fragments:
    a game's day entry reuses its encoded game, and the model and feature versions are
    encoded once, which is 5x faster than building and dumping dicts.
    """
    tail = (
        f',"model_version":{_json_str(model_version)}'
        f',"feature_version":{_json_str(feature_version)},"computed_at":'
    )
    entries: dict[str, bytes] = {}
    days: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        game_id, date, text = _game_json(row, tail, trained_until)
        revision = revisions[dt.date.fromisoformat(date)]
        entries[prediction_key(model_version, feature_version, game_id, revision)] = text.encode()
        days.setdefault(date, []).append((game_id, text))
    versions = f'"model_version":{_json_str(model_version)},' + (
        f'"feature_version":{_json_str(feature_version)}'
    )
    for iso, games in days.items():
        date = dt.date.fromisoformat(iso)
        games.sort(key=itemgetter(0))
        entries[day_key(model_version, feature_version, date, revisions[date])] = (
            f'{{"date":{_json_str(date.isoformat())},{versions},"count":{len(games)}'
            f',"games":[{",".join(text for _, text in games)}],"cached":true}}'
        ).encode()
    return entries


def _json_float(value: float) -> str:
    """A float as `json.dumps(..., allow_nan=False)` writes it (its `repr`)."""
    if value != value or value in (math.inf, -math.inf):
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(value)


def _json_text(value: Any) -> str:
    text = _text(value)
    return "null" if text is None else _json_str(text)


def _starters_json(row: Mapping[str, Any]) -> str:
    if row.get("inputs_hash") is None:
        return "null"
    sides = (
        f'"{side}":{{"id":{_json_text(row.get(f"{side}_sp_id"))}'
        f',"name":{_json_text(row.get(f"{side}_sp_name"))}}}'
        for side in ("home", "away")
    )
    return "{" + ",".join(sides) + "}"


def _json_team(value: Any) -> str:
    team = _team(value)
    return "null" if team is None else _json_str(team)


def _game_json(
    row: Mapping[str, Any], tail: str, trained_until: dt.date | None
) -> tuple[str, str, str]:
    """(game_id, date, the game's JSON with ``cached: true``), as `prediction_body` + `encode`."""
    p_home = float(row["p_home"])
    p_away = 1.0 - p_home
    game_id = str(row["game_id"])
    date = _iso_date(row["date"])
    text = (
        f'{{"game_id":{_json_str(game_id)},"date":{_json_str(date)}'
        f',"home":{_json_team(row.get("home"))},"away":{_json_team(row.get("away"))}'
        f',"p_home":{_json_float(_round(p_home))},"p_away":{_json_float(_round(p_away))}'
        f',"fair_odds":{{"home":{{"decimal":'
        f"{_json_float(_round(probability_to_decimal(p_home), 4))}"
        f',"american":{_json_float(_round(probability_to_american(p_home), 1))}}}'
        f',"away":{{"decimal":{_json_float(_round(probability_to_decimal(p_away), 4))}'
        f',"american":{_json_float(_round(probability_to_american(p_away), 1))}}}}}'
        f',"starters":{_starters_json(row)},"inputs":{_json_text(row.get("inputs_hash"))}'
        f"{tail}{_json_str(_iso_time(row['computed_at']))}"
        f',"in_sample":{"true" if in_sample(date, trained_until) else "false"},"cached":true}}'
    )
    return game_id, date, text


def features_entries(
    rows: Iterable[tuple[str, Mapping[str, float | None]]], feature_version: str
) -> dict[str, bytes]:
    """Keys and values for (game_id, {feature: value}) rows; NaN becomes null."""
    return {
        features_key(feature_version, game_id): _dumps(
            {name: _finite(value) for name, value in values.items()}
        )
        for game_id, values in rows
    }


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
