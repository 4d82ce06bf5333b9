"""Candidate features measured by `bullpen-bench quality --lever NAME`, not yet in the platform.

Each lever returns extra pre-game columns per game (`home_*`, `away_*`, `diff_*`),
indexed by game id, built with the same "earlier dates only" primitive as the
platform's features (`DateWindows`). A lever that helps on the validation seasons
moves into `bullpen/domain/features.py`; one that does not stays here, so its
measurement can be repeated. Some need fields the platform does not store
(starting lineups, line scores): they read them from each game's source line.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sparse
from sklearn.linear_model import Ridge

from bullpen.domain.gamelogs import GameRecord
from bullpen.domain.teams import franchise
from bullpen.domain.windows import DateWindows, shrunk_rate

Lever = Callable[[pd.DataFrame, list[GameRecord]], pd.DataFrame]
SIDES = (("home", "away"), ("away", "home"))


def _long(games: pd.DataFrame, values: dict[str, tuple[pd.Series, pd.Series]]) -> pd.DataFrame:
    """Two rows per game (the team's side first); `values` name → (home's, away's) series."""
    played = (games["home_score"].notna() & games["away_score"].notna()).to_numpy()
    parts = []
    for i, (side, _) in enumerate(SIDES):
        part = pd.DataFrame(
            {
                "game_id": games["game_id"].to_numpy(),
                "date": games["date"].to_numpy(),
                "season": games["season"].to_numpy(),
                "side": side,
                "team": games[side].to_numpy(),
                "sp": games[f"{side}_sp_id"].fillna("").to_numpy(),
                "played": played.astype(float),
            }
        )
        for name, pair in values.items():
            part[name] = np.where(played, pair[i].to_numpy(dtype=float), np.nan)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _wide(long: pd.DataFrame, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per-row arrays (in `long`'s order) → one row per game: home_, away_ and diff_ columns."""
    out = pd.DataFrame(index=pd.Index(long["game_id"].unique(), name="game_id"))
    for name, values in columns.items():
        by_side = pd.Series(values, index=pd.MultiIndex.from_frame(long[["game_id", "side"]]))
        out[f"home_{name}"] = by_side.xs("home", level="side").reindex(out.index)
        out[f"away_{name}"] = by_side.xs("away", level="side").reindex(out.index)
        out[f"diff_{name}"] = out[f"home_{name}"] - out[f"away_{name}"]
    return out


def bullpen_fatigue(games: pd.DataFrame, records: list[GameRecord]) -> pd.DataFrame:
    """Relief appearances by the team over the 3 calendar days before the game."""
    relievers = {s: (games[f"{s}_pitchers_used"] - 1).clip(lower=0) for s in ("home", "away")}
    long = _long(games, {"relievers": (relievers["home"], relievers["away"])})
    frame = long.sort_values(["team", "date"], kind="stable")
    used = DateWindows(frame, ["team"]).sum_days(frame["relievers"], 3)
    return _wide(long, {"bullpen_3d": pd.Series(used, index=frame.index).sort_index().to_numpy()})


def fip(games: pd.DataFrame, records: list[GameRecord]) -> pd.DataFrame:
    """FIP-like rate in the starter's starts: (13 HR + 3 (BB + HBP) - 2 K) per plate appearance,
    career and last 20 starts, shrunk toward the previous season's league rate."""
    pa = {o: sum(games[f"{o}_{c}"] for c in ("ab", "bb", "hbp", "sf", "sh")) for o in SIDES[0]}
    raw = {
        o: 13 * games[f"{o}_hr"] + 3 * (games[f"{o}_bb"] + games[f"{o}_hbp"]) - 2 * games[f"{o}_k"]
        for o in SIDES[0]
    }
    # A starter allows what the other side hits.
    long = _long(games, {"fip": (raw["away"], raw["home"]), "pa": (pa["away"], pa["home"])})
    league = long.groupby("season")[["fip", "pa"]].sum()
    prior = (league["fip"] / league["pa"]).shift(1).bfill()
    return _per_starter(long, "fip", "pa", long["season"].map(prior).to_numpy(), 300)


def first_five(games: pd.DataFrame, records: list[GameRecord]) -> pd.DataFrame:
    """Runs allowed in innings 1-5 of the starter's starts (where starters pitch), minus the
    previous season's league mean, per start, shrunk toward 0 by 8 starts."""
    early = pd.DataFrame(
        [(r.game_id, *(_first_five(_fields(r)[i]) for i in (20, 19))) for r in records],
        columns=["game_id", "home", "away"],
    ).set_index("game_id")
    runs = early.reindex(games["game_id"])
    allowed = (runs["away"].set_axis(games.index), runs["home"].set_axis(games.index))
    long = _long(games, {"f5": allowed, "one": (games["season"] * 0 + 1,) * 2})
    league = long.groupby("season")["f5"].mean().shift(1).bfill()
    long["f5"] = long["f5"] - long["season"].map(league)
    return _per_starter(long, "f5", "one", 0.0, 8)


def _per_starter(
    long: pd.DataFrame, total: str, count: str, prior: np.ndarray | float, weight: float
) -> pd.DataFrame:
    frame = long.sort_values(["sp", "date"], kind="stable")
    w = DateWindows(frame, ["sp"])
    p = prior if np.isscalar(prior) else np.asarray(prior)[frame.index.to_numpy()]
    columns = {}
    for suffix, last in (("", None), ("_recent", 20)):
        rate = shrunk_rate(w.sum(frame[total], last), w.sum(frame[count], last), p, weight)
        columns[f"sp_{total}{suffix}"] = pd.Series(rate, index=frame.index).sort_index().to_numpy()
    return _wide(long, columns)


INNINGS = re.compile(r"\(\d+\)|\d|x", re.IGNORECASE)


def _first_five(line_score: str) -> float:
    runs = [int(t.strip("()")) for t in INNINGS.findall(line_score)[:5] if t.lower() != "x"]
    return float(sum(runs))


def _fields(record: GameRecord) -> list[str]:
    return next(csv.reader([record.source_line]))


def lineups(games: pd.DataFrame, records: list[GameRecord]) -> pd.DataFrame:
    """Player ratings: a ridge fit of runs scored on the 9 starting batters (1/9 each), the
    opposing starter and the opposing team, refitted every 14 days on the last 3 seasons
    (half-life 1 season); each side gets its lineup's mean batter value, its starter's
    value, and the runs the fit expects it to score."""
    fields = {r.game_id: _fields(r) for r in records}
    # Fields 106-132 (visitors) and 133-159 (home): id, name, position of each batter.
    batters = {
        side: games["game_id"].map(lambda g, at=at: " ".join(fields[g][at : at + 27 : 3]))
        for side, at in (("home", 132), ("away", 105))
    }
    long = _long(games, {"runs": (games["home_score"], games["away_score"])})
    long["lineup"] = pd.concat([batters["home"], batters["away"]], ignore_index=True)
    long["opp_sp"] = pd.concat([games["away_sp_id"], games["home_sp_id"]], ignore_index=True)
    long["opp"] = pd.concat([games["away"], games["home"]], ignore_index=True)
    return _wide(long, _ridge_values(long))


RIDGE_ALPHA = 100.0
RIDGE_HALF_LIFE_DAYS = 365.0
RIDGE_YEARS = 3
RIDGE_EVERY_DAYS = 14


def _ridge_values(long: pd.DataFrame) -> dict[str, np.ndarray]:
    design, columns = _design(long)
    day = (long["date"] - pd.Timestamp("1970-01-01")).dt.days.to_numpy()
    runs = long["runs"].to_numpy(dtype=float)
    out = {name: np.full(len(long), np.nan) for name in ("lineup_value", "sp_value", "exp_runs")}
    for cut, end in _refits(long["date"]):
        fit_rows = (day < cut) & (day >= cut - RIDGE_YEARS * 365) & ~np.isnan(runs)
        target = (day >= cut) & (day < end)
        if not fit_rows.any() or not target.any():
            continue
        weight = 0.5 ** ((cut - day[fit_rows]) / RIDGE_HALF_LIFE_DAYS)
        mean = np.average(runs[fit_rows], weights=weight)
        coef = _fit(design[fit_rows], runs[fit_rows] - mean, weight)
        rows = np.flatnonzero(target)
        out["lineup_value"][rows] = coef[columns["batters"][rows]].mean(axis=1)
        # The side's own starter is the other row's opposing starter: sign flipped below.
        out["sp_value"][rows] = coef[columns["opp_sp"][rows]]
        out["exp_runs"][rows] = mean + design[rows] @ coef
    return _own_starter(long, out)


def _fit(design: sparse.csr_matrix, y: np.ndarray, weight: np.ndarray) -> np.ndarray:
    # Only the players seen in these rows: the same rows always give the same system,
    # however many later players the frame holds.
    seen = np.unique(design.indices)
    ridge = Ridge(alpha=RIDGE_ALPHA, fit_intercept=False, solver="sparse_cg", tol=1e-6)
    coef = np.zeros(design.shape[1])
    coef[seen] = ridge.fit(design[:, seen], y, sample_weight=weight).coef_
    return coef


def _own_starter(long: pd.DataFrame, out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # Row i's opposing starter is row i±n's own starter (the two halves of `long`).
    half = len(long) // 2
    out["sp_value"] = -np.concatenate([out["sp_value"][half:], out["sp_value"][:half]])
    return out


def _design(long: pd.DataFrame) -> tuple[sparse.csr_matrix, dict[str, np.ndarray]]:
    lineup_ids = [s.split() for s in long["lineup"]]
    batter_index = {b: i for i, b in enumerate(sorted({b for ids in lineup_ids for b in ids}))}
    sp_index = {p: i for i, p in enumerate(sorted(set(long["opp_sp"])))}
    team_index = {t: i for i, t in enumerate(sorted(set(long["opp"])))}
    nb, ns, nt, n = len(batter_index), len(sp_index), len(team_index), len(long)
    batters = np.array([[batter_index[b] for b in ids] for ids in lineup_ids])
    opp_sp = nb + long["opp_sp"].map(sp_index).to_numpy()
    opp = nb + ns + long["opp"].map(team_index).to_numpy()
    home = np.full(n, nb + ns + nt)
    rows = np.concatenate([np.repeat(np.arange(n), 9), *(np.arange(n),) * 3])
    cols = np.concatenate([batters.ravel(), opp_sp, opp, home])
    values = np.concatenate(
        [np.full(9 * n, 1 / 9), np.ones(2 * n), (long["side"] == "home").to_numpy(float)]
    )
    design = sparse.csr_matrix((values, (rows, cols)), shape=(n, nb + ns + nt + 1))
    return design, {"batters": batters, "opp_sp": opp_sp}


def _refits(dates: pd.Series) -> list[tuple[int, int]]:
    """(first day, end day) of each refit period: every RIDGE_EVERY_DAYS from each opening day."""
    periods = []
    for _, season in dates.groupby(dates.dt.year):
        first = (season.min() - pd.Timestamp("1970-01-01")).days
        last = (season.max() - pd.Timestamp("1970-01-01")).days
        cuts = [*range(first, last + 1, RIDGE_EVERY_DAYS), last + 1]
        periods += list(itertools.pairwise(cuts))
    return periods


SEASON_WEIGHT_GAMES = 40.0  # how many of this season's games last season counts as
CARRY = 0.5  # share of last season's run differential per game carried into this one
SEASON_WEIGHT_PA = 300.0


def season_blend(games: pd.DataFrame, records: list[GameRecord]) -> pd.DataFrame:
    """Glicko-like early-season estimates: this season so far, with last season (regressed)
    as a prior worth SEASON_WEIGHT_GAMES games; the starter's season K rate with his
    career before the season as a prior worth SEASON_WEIGHT_PA plate appearances."""
    margin = games["home_score"] - games["away_score"]
    pa = {o: sum(games[f"{o}_{c}"] for c in ("ab", "bb", "hbp", "sf", "sh")) for o in SIDES[0]}
    long = _long(
        games,
        {
            "margin": (margin, -margin),
            "k": (games["away_k"], games["home_k"]),
            "pa": (pa["away"], pa["home"]),
        },
    )
    long["team"] = long["team"].map(franchise)
    team = _season_prior_rate(
        long, "team", "margin", "played", 0.0, SEASON_WEIGHT_GAMES, CARRY, last_season_only=True
    )
    league = long.groupby("season")["k"].sum() / long.groupby("season")["pa"].sum()
    k_prior = long["season"].map(league.shift(1).bfill()).to_numpy()
    starter = _season_prior_rate(long, "sp", "k", "pa", k_prior, SEASON_WEIGHT_PA, 1.0)
    return _wide(long, {"rd_blend": team, "sp_k_blend": starter})


def _season_prior_rate(
    long: pd.DataFrame,
    key: str,
    total: str,
    count: str,
    base: np.ndarray | float,
    weight: float,
    carry: float,
    last_season_only: bool = False,
) -> np.ndarray:
    """(this season's total + prior rate x weight) / (this season's count + weight), the prior
    being `base` + `carry` x (the rate over every earlier season, or the last one, shrunk
    toward `base`)."""
    base_rows = np.broadcast_to(np.asarray(base, dtype=float), (len(long),))
    frame = long.assign(base=base_rows).sort_values([key, "season", "date"], kind="stable")
    career = DateWindows(frame, [key])
    season = DateWindows(frame, [key, "season"])
    t_all, n_all = career.sum(frame[total]), career.sum(frame[count])
    t_now, n_now = season.sum(frame[total]), season.sum(frame[count])
    if last_season_only:
        sums = frame.groupby([key, "season"])[[total, count]].sum()
        last = sums.groupby(level=key).shift(1).fillna(0.0)
        at = pd.MultiIndex.from_frame(frame[[key, "season"]])
        t_all = last[total].reindex(at).to_numpy() + t_now
        n_all = last[count].reindex(at).to_numpy() + n_now
    b = frame["base"].to_numpy()
    before = shrunk_rate(t_all - t_now, n_all - n_now, b, weight)
    prior = b + carry * (before - b)
    rate = shrunk_rate(t_now, n_now, prior, weight)
    return pd.Series(rate, index=frame.index).sort_index().to_numpy()


LEVERS: dict[str, tuple[Lever, str]] = {
    "bullpen": (bullpen_fatigue, "relievers used over the last 3 days"),
    "fip": (fip, "starter's FIP-like rate from team totals in his starts"),
    "first5": (first_five, "starter's runs allowed in innings 1-5 (line scores)"),
    "lineups": (lineups, "ridge ratings of lineup batters, starters and teams"),
    "season_blend": (season_blend, "this season so far, last season as a shrinking prior"),
}
