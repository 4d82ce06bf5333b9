"""Walk-forward backtest of one season.

The model trains only on seasons before the test season; every test game is
scored from features that, by construction, use only games of earlier dates,
so the in-season team and pitcher form update as the season is played without
any refit. Baselines are scored on the same games: the Elo model and the
constant home-win rate of the training seasons.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bullpen.domain.features import build_features
from bullpen.domain.metrics import score
from bullpen.domain.model import WinModel, elo_model, train_blend
from bullpen.domain.training import labelled, outcomes, training_seasons

OUTPUT_COLUMNS = ("game_id", "date", "game_number", "home", "away", "p_home")


class BacktestError(ValueError):
    pass


@dataclass
class BacktestResult:
    season: int
    train_seasons: list[int]
    predictions: pd.DataFrame  # OUTPUT_COLUMNS + p_elo, p_constant, y
    metrics: dict[str, dict[str, float]]  # model name → scores
    model: WinModel

    def output(self) -> pd.DataFrame:
        """The contract's CSV rows: dates as YYYY-MM-DD, Retrosheet team codes."""
        out = self.predictions[list(OUTPUT_COLUMNS)].copy()
        out["date"] = out["date"].dt.strftime("%Y-%m-%d")
        return out


def run_backtest(games: pd.DataFrame, season: int, threads: int = 1) -> BacktestResult:
    games = games[games["season"] <= season]
    test_games = games[games["season"] == season]
    if test_games.empty:
        raise BacktestError(f"no games of season {season} in the game logs")
    seasons = training_seasons(sorted(games["season"].unique()), season)
    if not seasons:
        raise BacktestError(f"no season before {season} in the game logs to train on")
    features = build_features(games)
    model = fit_for_seasons(features, games, seasons, threads)
    return _score_season(features, games, test_games, seasons, model)


def fit_for_seasons(
    features: pd.DataFrame, games: pd.DataFrame, seasons: list[int], threads: int = 1
) -> WinModel:
    """The blend trained and calibrated on the decided games of `seasons`."""
    return train_blend(labelled(features[features["season"].isin(seasons)], games), threads)


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
    return BacktestResult(
        season=int(test_games["season"].iloc[0]),
        train_seasons=seasons,
        predictions=frame[keep].sort_values(["date", "game_number", "game_id"], ignore_index=True),
        metrics=metrics,
        model=model,
    )


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
    return "\n".join(lines)
