"""What a prediction was computed from, as short hashes the cache keys carry.

A game's **inputs hash** covers its pre-game feature values and its announced
starters (ids and names: two unknown debutants have the same features but not the
same answer). A date's **revision** covers the inputs of every game on it. The
cache keys of a date's predictions carry its revision
(`bullpen.cache.contract`), so when a starter is scratched and the features are
recomputed, the keys change and no cache layer can serve the old price.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

STARTER_COLUMNS: tuple[str, ...] = ("home_sp_id", "home_sp_name", "away_sp_id", "away_sp_name")
INPUT_COLUMNS: tuple[str, ...] = ("inputs_hash", *STARTER_COLUMNS)
HASH_CHARS = 12
# Features are rounded before hashing: the same inputs computed by two code paths
# (a full rebuild, a day's as-of slate) may differ in the last bits of a float.
SIGNIFICANT_DIGITS = 9


def inputs_hash(values: Mapping[str, Any], starters: Iterable[Any]) -> str:
    features = [[name, _canonical(values[name])] for name in sorted(values)]
    people = [None if _missing(s) else str(s) for s in starters]
    return _digest(json.dumps([features, people], separators=(",", ":")))


def date_revision(games: Iterable[tuple[str, str | None]]) -> str:
    """A date's revision from its (game_id, inputs_hash) pairs, in any order."""
    return _digest(";".join(f"{game}:{inputs or ''}" for game, inputs in sorted(games)))


def with_inputs(features: pd.DataFrame, games: pd.DataFrame, names: Iterable[str]) -> pd.DataFrame:
    """`features` plus each game's starters (from `games`, by game_id) and inputs hash.

    `names` are the feature columns the hash covers; a game missing from `games`
    has unknown starters.
    """
    names = list(names)
    starters = games.drop_duplicates("game_id").set_index("game_id")[list(STARTER_COLUMNS)]
    out = features.drop(columns=[c for c in INPUT_COLUMNS if c in features]).join(
        starters, on="game_id"
    )
    out["inputs_hash"] = [
        inputs_hash(dict(zip(names, values, strict=True)), people)
        for values, people in zip(
            out[names].itertuples(index=False, name=None),
            out[list(STARTER_COLUMNS)].itertuples(index=False, name=None),
            strict=True,
        )
    ]
    return out


def _canonical(value: Any) -> float | None:
    if _missing(value):
        return None
    return float(f"{float(value):.{SIGNIFICANT_DIGITS}g}")


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]
