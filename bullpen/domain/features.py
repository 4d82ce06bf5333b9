"""Pre-game features for every game, computed in one vectorised pass.

"Pre-game" is the platform's contract: a game's features use only games
completed on earlier dates, plus the game's own schedule and announced
starting pitchers. Everything here is built from `DateWindows`, which enforces
that, and from `pregame_elo`, which rates a whole date before applying its
results. A game without a score (scheduled, or an "as of" day) gets features
like any other and contributes nothing to later ones.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from bullpen.domain.elo import EloParams, pregame_elo
from bullpen.domain.starter_form import RECENT_STARTS, starter_features
from bullpen.domain.teams import franchise
from bullpen.domain.windows import DateWindows, shrunk_rate

ELO_PARAMS = EloParams(k=4.0, home_advantage=25.0, carry_over=0.65)
TEAM_WINDOWS = (30, 162)
MAX_REST_DAYS = 5.0
# Priors for the first season in the data, when no earlier season exists.
FALLBACK_K_RATE = 0.17
FALLBACK_RUNS_PER_GAME = 4.6

SIDE_FEATURES: tuple[str, ...] = (
    "elo",
    *(f"win_pct_{n}" for n in TEAM_WINDOWS),
    *(f"run_diff_{n}" for n in TEAM_WINDOWS),
    "pythag_162",
    "team_k_rate_162",
    "season_games",
    "season_win_pct",
    "season_run_diff",
    "venue_win_pct",
    "rest_days",
    "sp_starts",
    "sp_season_starts",
    "sp_rest_days",
    "sp_k_rate",
    "sp_k_rate_recent",
    "sp_runs_vs_exp",
    "sp_runs_vs_exp_recent",
    "sp_relievers",
)
DIFF_FEATURES: tuple[str, ...] = (
    "elo", "win_pct_162", "run_diff_162", "pythag_162", "season_win_pct",
    "sp_k_rate", "sp_k_rate_recent", "sp_runs_vs_exp", "sp_runs_vs_exp_recent", "sp_relievers",
)  # fmt: skip
FEATURE_NAMES: tuple[str, ...] = (
    "elo_p_home",
    *(f"home_{f}" for f in SIDE_FEATURES),
    *(f"away_{f}" for f in SIDE_FEATURES),
    *(f"diff_{f}" for f in DIFF_FEATURES),
)


def _version() -> str:
    spec = {
        "names": FEATURE_NAMES,
        "elo": ELO_PARAMS.as_dict(),
        "windows": TEAM_WINDOWS,
        "pitcher_recent": RECENT_STARTS,
        "revision": 2,  # bump when a formula changes without a name changing
    }
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    return f"f1-{digest[:8]}"


FEATURE_VERSION = _version()


def build_features(games: pd.DataFrame) -> pd.DataFrame:
    """`game_id, date, season, home, away` plus every name in FEATURE_NAMES.

    `games` is the games frame (`records_frame` or `store.read_games`); rows
    whose scores are NaN are treated as not yet played.
    """
    games = games.sort_values(["date", "game_number", "game_id"], ignore_index=True)
    long = _team_games(games)
    long = long.join(_team_features(long))
    long = long.join(_pitcher_features(long, _league_priors(games)))
    home = long[long["is_home"] == 1].set_index("game_id")
    away = long[long["is_home"] == 0].set_index("game_id")
    out = games[["game_id", "date", "season", "home", "away"]].set_index("game_id")
    elo = pregame_elo(games, ELO_PARAMS).set_index("game_id")
    out["elo_p_home"] = elo["elo_p_home"]
    home = home.assign(elo=elo["elo_home"])
    away = away.assign(elo=elo["elo_away"])
    for name in SIDE_FEATURES:
        out[f"home_{name}"] = home[name]
        out[f"away_{name}"] = away[name]
    for name in DIFF_FEATURES:
        out[f"diff_{name}"] = out[f"home_{name}"] - out[f"away_{name}"]
    return out.reset_index()


def _team_games(games: pd.DataFrame) -> pd.DataFrame:
    """Two rows per game, one from each team's side."""
    played = games["home_score"].notna() & games["away_score"].notna()
    sides = []
    for side, other, is_home in (("home", "away", 1), ("away", "home", 0)):
        runs_for = games[f"{side}_score"].astype(float)
        runs_against = games[f"{other}_score"].astype(float)
        win = np.where(runs_for > runs_against, 1.0, np.where(runs_for < runs_against, 0.0, 0.5))
        opp_pa = sum(games[f"{other}_{c}"].astype(float) for c in ("ab", "bb", "hbp", "sf", "sh"))
        sides.append(
            pd.DataFrame(
                {
                    "game_id": games["game_id"],
                    "date": games["date"],
                    "season": games["season"],
                    "team": games[side].map(franchise),
                    "opp": games[other].map(franchise),
                    "is_home": is_home,
                    "played": played.astype(float),
                    "runs_for": runs_for.where(played),
                    "runs_against": runs_against.where(played),
                    "win": pd.Series(win, index=games.index).where(played),
                    "k_against": games[f"{other}_k"].astype(float).where(played),
                    "pa_against": opp_pa.where(played),
                    "relievers": (games[f"{side}_pitchers_used"].astype(float) - 1).clip(lower=0),
                    "sp": games[f"{side}_sp_id"].fillna(""),
                }
            )
        )
    long = pd.concat(sides, ignore_index=True)
    long["relievers"] = long["relievers"].where(long["played"] == 1)
    long["day"] = (long["date"] - pd.Timestamp("1970-01-01")).dt.days.astype(float)
    return long


def _team_features(long: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=long.index)
    frame = long.sort_values(["team", "date"], kind="stable")
    w = DateWindows(frame, ["team"])
    played = frame["played"].to_numpy()
    for n in TEAM_WINDOWS:
        games = w.sum(played, n)
        out.loc[frame.index, f"win_pct_{n}"] = shrunk_rate(w.sum(frame["win"], n), games, 0.5, 10)
        margin = frame["runs_for"] - frame["runs_against"]
        out.loc[frame.index, f"run_diff_{n}"] = shrunk_rate(w.sum(margin, n), games, 0.0, 10)
    rf, ra = w.sum(frame["runs_for"], 162) + 40, w.sum(frame["runs_against"], 162) + 40
    out.loc[frame.index, "pythag_162"] = rf**1.83 / (rf**1.83 + ra**1.83)
    k_rate = shrunk_rate(w.sum(frame["k_against"], 162), w.sum(frame["pa_against"], 162), 0.19, 200)
    out.loc[frame.index, "team_k_rate_162"] = k_rate
    rest = frame["day"].to_numpy() - w.previous(frame["day"])
    out.loc[frame.index, "rest_days"] = np.nan_to_num(rest, nan=MAX_REST_DAYS).clip(
        0, MAX_REST_DAYS
    )

    season = DateWindows(
        frame.sort_values(["team", "season", "date"], kind="stable"), ["team", "season"]
    )
    out = out.join(
        _season_features(frame.sort_values(["team", "season", "date"], kind="stable"), season)
    )
    venue_frame = frame.sort_values(["team", "season", "is_home", "date"], kind="stable")
    venue = DateWindows(venue_frame, ["team", "season", "is_home"])
    venue_games = venue.sum(venue_frame["played"])
    out.loc[venue_frame.index, "venue_win_pct"] = shrunk_rate(
        venue.sum(venue_frame["win"]), venue_games, 0.5, 10
    )
    return out


def _season_features(frame: pd.DataFrame, w: DateWindows) -> pd.DataFrame:
    games = w.sum(frame["played"])
    margin = frame["runs_for"] - frame["runs_against"]
    return pd.DataFrame(
        {
            "season_games": games,
            "season_win_pct": shrunk_rate(w.sum(frame["win"]), games, 0.5, 10),
            "season_run_diff": shrunk_rate(w.sum(margin), games, 0.0, 10),
        },
        index=frame.index,
    )


def _league_priors(games: pd.DataFrame) -> pd.DataFrame:
    """Per season: the previous season's league strikeout rate and runs per team-game.

    Known before the season's first pitch, so they are safe pre-game priors.
    """
    played = games.dropna(subset=["home_score", "away_score"])
    pa = sum(played[f"{s}_{c}"] for s in ("home", "away") for c in ("ab", "bb", "hbp", "sf", "sh"))
    by_season = (
        pd.DataFrame(
            {
                "season": played["season"],
                "k": played["home_k"] + played["away_k"],
                "pa": pa,
                "runs": played["home_score"] + played["away_score"],
            }
        )
        .groupby("season")
        .sum()
    )
    by_season["k_rate"] = by_season["k"] / by_season["pa"]
    counts = played.groupby("season").size()
    by_season["runs_per_game"] = by_season["runs"] / (2 * counts)
    seasons = sorted(games["season"].unique())
    prior = by_season[["k_rate", "runs_per_game"]].reindex([s - 1 for s in seasons])
    prior.index = seasons
    prior["k_rate"] = prior["k_rate"].fillna(FALLBACK_K_RATE)
    prior["runs_per_game"] = prior["runs_per_game"].fillna(FALLBACK_RUNS_PER_GAME)
    return prior


def _pitcher_features(long: pd.DataFrame, priors: pd.DataFrame) -> pd.DataFrame:
    rpg_prior = long["season"].map(priors["runs_per_game"])
    # What an average pitcher would allow to this opponent: its recent scoring.
    opp_rpg = _opponent_scoring(long, rpg_prior)
    return starter_features(
        long.assign(
            runs_vs_exp=long["runs_against"] - opp_rpg,
            k_prior=long["season"].map(priors["k_rate"]).to_numpy(),
        )
    )


def _opponent_scoring(long: pd.DataFrame, rpg_prior: pd.Series) -> pd.Series:
    frame = long.sort_values(["team", "date"], kind="stable")
    w = DateWindows(frame, ["team"])
    scoring = shrunk_rate(
        w.sum(frame["runs_for"], 162),
        w.sum(frame["played"], 162),
        rpg_prior.loc[frame.index].to_numpy(),
        20,
    )
    by_team_game = pd.Series(scoring, index=pd.MultiIndex.from_frame(frame[["game_id", "team"]]))
    keys = pd.MultiIndex.from_frame(long[["game_id", "opp"]].rename(columns={"opp": "team"}))
    return pd.Series(by_team_game.reindex(keys).to_numpy(), index=long.index)
