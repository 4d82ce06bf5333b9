"""Starting-pitcher form, shrunk toward what pitchers of his experience do.

Game logs carry no individual pitching lines; the opponents' strikeouts, plate
appearances and runs in the games he started are dominated by his own innings.
Each rate is an empirical-Bayes estimate: his totals plus a prior worth a fixed
number of starts (or plate appearances). The prior is not the league mean: it
is the mean of starts by pitchers with as many career starts as he has, in the
seasons before this one. Starters with little history are worse than average
(over 2003-2021, debut starts allowed ~0.46 runs more than expected, starts
after 80 career starts ~0.11 fewer), and a league-mean prior would price every
debut as an average arm. A starter with no id (not announced, or one the store
has never seen) has no history, so he is priced as a debut: the explicit
"unknown or debut starter" value live game days use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bullpen.domain.windows import DateWindows, shrunk_rate

RECENT_STARTS = 20
MAX_REST_DAYS = 30.0
# Career starts before this one: the lower edge of each experience class.
EXPERIENCE_EDGES = (0, 1, 6, 21, 51)
# Prior weights: how many starts (plate appearances for K rate) the prior counts as.
RUNS_WEIGHT = 8.0
K_WEIGHT = 200.0
# Before any season with data: an average starter.
DEFAULT_PRIOR = {"runs_vs_exp": 0.0, "k_excess": 0.0, "relievers": 3.0}


def experience_class(career_starts: np.ndarray) -> np.ndarray:
    """Index into EXPERIENCE_EDGES for each starter's career starts so far."""
    return np.searchsorted(EXPERIENCE_EDGES, np.asarray(career_starts), side="right") - 1


def starter_features(long: pd.DataFrame) -> pd.DataFrame:
    """`sp_*` features for each team-game row of `long`, on its index.

    `long` needs: sp (id, "" for unknown), date, day, season, played, k_against,
    pa_against, runs_vs_exp, relievers, k_prior (the league K rate prior).
    """
    frame = long.sort_values(["sp", "date"], kind="stable")
    w = DateWindows(frame, ["sp"])
    # An unknown starter has no history: every sum about him is zero.
    keep = (frame["sp"] != "").to_numpy().astype(float)
    starts = w.sum(frame["played"]) * keep
    klass = experience_class(starts)
    prior = _experience_priors(frame, klass).reindex(
        pd.MultiIndex.from_arrays([frame["season"], klass])
    )
    kp = frame["k_prior"].to_numpy() + prior["k_excess"].to_numpy()
    rp = prior["runs_vs_exp"].to_numpy()
    out = pd.DataFrame(index=frame.index)
    out["sp_starts"] = starts
    for suffix, last in (("", None), ("_recent", RECENT_STARTS)):
        n = w.sum(frame["played"], last) * keep
        k, pa = (w.sum(frame[c], last) * keep for c in ("k_against", "pa_against"))
        out[f"sp_k_rate{suffix}"] = shrunk_rate(k, pa, kp, K_WEIGHT)
        rve = w.sum(frame["runs_vs_exp"], last) * keep
        out[f"sp_runs_vs_exp{suffix}"] = shrunk_rate(rve, n, rp, RUNS_WEIGHT)
    relievers = w.sum(frame["relievers"]) * keep
    out["sp_relievers"] = shrunk_rate(relievers, starts, prior["relievers"].to_numpy(), RUNS_WEIGHT)
    rest = frame["day"].to_numpy() - w.previous(frame["day"])
    rest = np.where(keep == 1, np.nan_to_num(rest, nan=MAX_REST_DAYS), MAX_REST_DAYS)
    out["sp_rest_days"] = rest.clip(0, MAX_REST_DAYS)
    season_frame = frame.sort_values(["sp", "season", "date"], kind="stable")
    season_w = DateWindows(season_frame, ["sp", "season"])
    out.loc[season_frame.index, "sp_season_starts"] = season_w.sum(season_frame["played"])
    out.loc[keep == 0, "sp_season_starts"] = 0.0
    return out.loc[long.index]


def _experience_priors(frame: pd.DataFrame, klass: np.ndarray) -> pd.DataFrame:
    """Per (season, experience class): the mean start of that class in all earlier seasons."""
    played = (frame["played"] == 1).to_numpy() & (frame["sp"] != "").to_numpy()
    starts = pd.DataFrame(
        {
            "season": frame["season"].to_numpy()[played],
            "klass": klass[played],
            "n": 1.0,
            "runs_vs_exp": frame["runs_vs_exp"].to_numpy()[played],
            "k_excess": (frame["k_against"] - frame["k_prior"] * frame["pa_against"]).to_numpy()[
                played
            ],
            "pa": frame["pa_against"].to_numpy()[played],
            "relievers": frame["relievers"].to_numpy()[played],
        }
    )
    seasons = sorted(frame["season"].unique())
    classes = range(len(EXPERIENCE_EDGES))
    full = pd.MultiIndex.from_product([seasons, classes], names=["season", "klass"])
    totals = starts.groupby(["season", "klass"]).sum().reindex(full, fill_value=0.0)
    # Earlier seasons only: cumulate per class, then step one season back.
    earlier = totals.groupby(level="klass").cumsum().groupby(level="klass").shift(1)
    prior = pd.DataFrame(
        {
            "runs_vs_exp": earlier["runs_vs_exp"] / earlier["n"],
            "k_excess": earlier["k_excess"] / earlier["pa"],
            "relievers": earlier["relievers"] / earlier["n"],
        },
        index=full,
    )
    return prior.replace([np.inf, -np.inf], np.nan).fillna(DEFAULT_PRIOR)
