"""Walk-forward backtest of one season.

The model trains only on seasons before the test season; every test game is
scored from features that, by construction, use only games of earlier dates,
so the in-season team and pitcher form update as the season is played without
any refit. Baselines are scored on the same games: the Elo model and the
constant home-win rate of the training seasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from bullpen.domain.features import FEATURE_NAMES, build_features
from bullpen.domain.metrics import brier, score
from bullpen.domain.model import WinModel, elo_model, train_blend
from bullpen.domain.training import labelled, outcomes, training_seasons

OUTPUT_COLUMNS = ("game_id", "date", "game_number", "home", "away", "p_home")
MONTHS = {4: "Apr", 5: "May", 6: "Jun", 7: "Jul", 8: "Aug", 9: "Sep"}
# Where a game-log model knows least: only last season, regressed (and where
# FiveThirtyEight's preseason projections gave it its edge).
EARLY_MONTHS = (4, 5)


class BacktestError(ValueError):
    pass


@dataclass
class BacktestResult:
    season: int
    train_seasons: list[int]
    predictions: pd.DataFrame  # OUTPUT_COLUMNS + p_elo, p_constant, y
    metrics: dict[str, dict[str, float]]  # model name → scores
    model: WinModel
    # One row per month: games, mean_p, observed, brier, elo_brier (see `by_month`).
    monthly: list[dict[str, float | str]] = field(default_factory=list)
    early: dict[str, dict[str, float]] = field(default_factory=dict)  # April-May scores

    def output(self) -> pd.DataFrame:
        """The contract's CSV rows: dates as YYYY-MM-DD, Retrosheet team codes."""
        out = self.predictions[list(OUTPUT_COLUMNS)].copy()
        out["date"] = out["date"].dt.strftime("%Y-%m-%d")
        return out


def run_backtest(
    games: pd.DataFrame,
    season: int,
    threads: int = 1,
    features: pd.DataFrame | None = None,
    feature_names: tuple[str, ...] = FEATURE_NAMES,
) -> BacktestResult:
    """Train on the seasons before `season`, score `season`.

    `features` may be passed when already built (over these games or more: they
    are pre-game, so later games change nothing before them); a study of a
    candidate feature passes it with its columns added and `feature_names`
    extended.
    """
    games = games[games["season"] <= season]
    test_games = games[games["season"] == season]
    if test_games.empty:
        raise BacktestError(f"no games of season {season} in the game logs")
    seasons = training_seasons(sorted(games["season"].unique()), season)
    if not seasons:
        raise BacktestError(f"no season before {season} in the game logs to train on")
    if features is None:
        features = build_features(games)
    model = fit_for_seasons(features, games, seasons, threads, feature_names)
    return _score_season(features, games, test_games, seasons, model)


def fit_for_seasons(
    features: pd.DataFrame,
    games: pd.DataFrame,
    seasons: list[int],
    threads: int = 1,
    feature_names: tuple[str, ...] = FEATURE_NAMES,
) -> WinModel:
    """The blend trained and calibrated on the decided games of `seasons`."""
    train = labelled(features[features["season"].isin(seasons)], games)
    return train_blend(train, threads, feature_names=feature_names)


def _score_season(
    features: pd.DataFrame,
    games: pd.DataFrame,
    test_games: pd.DataFrame,
    seasons: list[int],
    model: WinModel,
) -> BacktestResult:
    test = features[features["season"] == test_games["season"].iloc[0]]
    y_train = outcomes(games[games["season"].isin(seasons)]).dropna()
    frame = test_games[["game_id", "date", "game_number", "home", "away"]].merge(
        test[["game_id", *model.feature_names]], on="game_id", validate="one_to_one"
    )
    frame["p_home"] = model.predict(frame)
    frame["p_elo"] = elo_model().predict(frame)
    frame["p_constant"] = float(y_train.mean())
    frame["y"] = frame["game_id"].map(outcomes(test_games))
    decided = frame.dropna(subset=["y"])
    y = decided["y"].to_numpy()
    metrics = {
        name: score(y, decided[column].to_numpy())
        for name, column in (("model", "p_home"), ("elo", "p_elo"), ("constant", "p_constant"))
    }
    keep = [*OUTPUT_COLUMNS, "p_elo", "p_constant", "y"]
    early = decided[_month(decided["date"]).isin(EARLY_MONTHS)]
    return BacktestResult(
        season=int(test_games["season"].iloc[0]),
        train_seasons=seasons,
        predictions=frame[keep].sort_values(["date", "game_number", "game_id"], ignore_index=True),
        metrics=metrics,
        model=model,
        monthly=by_month(decided),
        early={
            name: score(early["y"].to_numpy(), early[column].to_numpy())
            for name, column in (("model", "p_home"), ("elo", "p_elo"))
        },
    )


def _month(dates: pd.Series) -> pd.Series:
    # March openers count with April, October's last days with September.
    return dates.dt.month.clip(min(MONTHS), max(MONTHS))


def by_month(decided: pd.DataFrame) -> list[dict[str, float | str]]:
    """Calibration and Brier month by month: is the model as good in April as in August?

    `decided` has `date`, `y`, `p_home` and `p_elo`.
    """
    rows: list[dict[str, float | str]] = []
    for month, part in decided.groupby(_month(decided["date"])):
        y, p = part["y"].to_numpy(), part["p_home"].to_numpy()
        rows.append(
            {
                "month": MONTHS[int(month)],
                "games": float(len(part)),
                "mean_p": float(p.mean()),
                "observed": float(y.mean()),
                "brier": brier(y, p),
                "elo_brier": brier(y, part["p_elo"].to_numpy()),
            }
        )
    return rows


def format_metrics(result: BacktestResult) -> str:
    lines = [
        f"season {result.season}: {len(result.predictions)} games predicted, "
        f"trained on {result.train_seasons[0]}-{result.train_seasons[-1]}",
        f"{'model':<10}{'brier':>9}{'log_loss':>10}{'accuracy':>10}{'calib_err':>11}{'games':>7}",
    ]
    for name, m in result.metrics.items():
        lines.append(
            f"{name:<10}{m['brier']:>9.4f}{m['log_loss']:>10.4f}{m['accuracy']:>10.4f}"
            f"{m['calibration_error']:>11.4f}{int(m['games']):>7}"
        )
    if result.early:
        model, elo = result.early["model"], result.early["elo"]
        lines.append(
            f"April-May: model brier {model['brier']:.4f}, elo {elo['brier']:.4f}"
            f" ({int(model['games'])} games)"
        )
    lines.append(f"{'month':<10}{'games':>7}{'mean_p':>9}{'observed':>10}{'brier':>9}{'elo':>9}")
    for row in result.monthly:
        lines.append(
            f"{row['month']:<10}{int(row['games']):>7}{row['mean_p']:>9.4f}"
            f"{row['observed']:>10.4f}{row['brier']:>9.4f}{row['elo_brier']:>9.4f}"
        )
    return "\n".join(lines)
