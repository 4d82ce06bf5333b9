"""Win-probability models: LightGBM blended with a logistic model, calibrated.

The LightGBM booster starts from the Elo log-odds (`init_score`) and learns
corrections from the other features; a logistic regression on a few strong
features is averaged in (it matched LightGBM alone in the backtests, and the
average beat both); Platt scaling fitted on a season the components did not
train on calibrates the blend. The Elo baseline is a model of its own kind.

Models serialise to JSON bytes (LightGBM's text format inside), never pickle, so
an artifact in the registry can be read by any version of this code that knows
its `kind`. Scoring uses numpy rows and one LightGBM thread: on two cores the
default pool turns a 23 µs predict into millisecond spikes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from bullpen.domain.features import FEATURE_NAMES, FEATURE_VERSION

LINEAR_FEATURES: tuple[str, ...] = (
    "elo_p_home",  # enters as log-odds
    "diff_sp_k_rate_recent",
    "diff_sp_k_rate",
    "home_sp_season_starts",
    "away_sp_season_starts",
)
LGBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.01,
    "num_leaves": 4,
    "min_data_in_leaf": 500,
    "feature_fraction": 0.7,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 10.0,
    "verbose": -1,
    "seed": 7,
    "deterministic": True,
}
LGBM_ROUNDS = 300
LINEAR_L2 = 1.0


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


@dataclass
class WinModel:
    """A trained model: what it expects, and how to score a feature matrix."""

    kind: str  # "blend" or "elo"
    feature_names: tuple[str, ...] = FEATURE_NAMES
    feature_version: str = FEATURE_VERSION
    booster_text: str | None = None
    linear: dict[str, list[float]] = field(default_factory=dict)
    calibration: tuple[float, float] = (1.0, 0.0)
    threads: int = 1
    _booster: lgb.Booster | None = field(default=None, repr=False, compare=False)

    def predict(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """P(home team wins) for each row (columns in `feature_names` order)."""
        a, b = self.calibration
        return sigmoid(a * self.raw_score(features) + b)

    def raw_score(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Uncalibrated log-odds of a home win (`bullpen.domain.explain` splits it by feature)."""
        x = self.matrix(features)
        elo_logit = logit(x[:, self.feature_names.index("elo_p_home")])
        if self.kind == "elo":
            return elo_logit
        return 0.5 * (self._booster_raw(x) + elo_logit) + 0.5 * self._linear_raw(x)

    def matrix(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """`features` as the float matrix this model scores (columns in `feature_names` order)."""
        if isinstance(features, pd.DataFrame):
            missing = [c for c in self.feature_names if c not in features.columns]
            if missing:
                raise ValueError(f"features missing columns: {missing}")
            return features[list(self.feature_names)].to_numpy(dtype=float)
        return np.asarray(features, dtype=float)

    @property
    def booster(self) -> lgb.Booster:
        """The LightGBM component (blend only), parsed from its text on first use."""
        if self._booster is None:
            self._booster = lgb.Booster(model_str=self.booster_text)
        return self._booster

    def _booster_raw(self, x: np.ndarray) -> np.ndarray:
        return self.booster.predict(x, raw_score=True, num_threads=self.threads)

    def _linear_raw(self, x: np.ndarray) -> np.ndarray:
        return self.linear_z(x) @ np.array(self.linear["coef"]) + self.linear["intercept"][0]

    def linear_z(self, x: np.ndarray) -> np.ndarray:
        """The logistic part's standardized inputs, one column per `LINEAR_FEATURES` name
        (Elo's probability enters as its log-odds)."""
        cols = [self.feature_names.index(c) for c in LINEAR_FEATURES]
        z = x[:, cols].copy()
        z[:, 0] = logit(z[:, 0])
        return (z - np.array(self.linear["mean"])) / np.array(self.linear["scale"])

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "kind": self.kind,
                "feature_names": list(self.feature_names),
                "feature_version": self.feature_version,
                "booster": self.booster_text,
                "linear": self.linear,
                "calibration": list(self.calibration),
            }
        ).encode()

    @classmethod
    def from_bytes(cls, blob: bytes, threads: int = 1) -> WinModel:
        data = json.loads(blob)
        return cls(
            kind=data["kind"],
            feature_names=tuple(data["feature_names"]),
            feature_version=data["feature_version"],
            booster_text=data["booster"],
            linear=data["linear"],
            calibration=tuple(data["calibration"]),
            threads=threads,
        )

    def feature_importance(self) -> dict[str, float]:
        """Total gain per feature of the LightGBM component (empty for Elo)."""
        if self.kind != "blend":
            return {}
        gains = self.booster.feature_importance(importance_type="gain")
        return dict(zip(self.feature_names, (float(g) for g in gains), strict=True))

    def card(self) -> dict[str, Any]:
        """What the registry shows about a blend: each feature's share of the trees'
        gain (largest first) and the logistic part's standardized coefficients."""
        if self.kind != "blend":
            return {}
        gains = self.feature_importance()
        total = sum(gains.values()) or 1.0
        ranked = sorted(gains.items(), key=lambda item: item[1], reverse=True)
        return {
            "gain_share": {name: round(gain / total, 5) for name, gain in ranked},
            "linear_coefficients": dict(
                zip(LINEAR_FEATURES, (round(c, 5) for c in self.linear["coef"]), strict=True)
            ),
            "calibration": list(self.calibration),
        }


def elo_model() -> WinModel:
    return WinModel(kind="elo")


CALIBRATION_FOLDS = 4


def train_blend(
    train: pd.DataFrame,
    threads: int = 1,
    calibrate: bool = True,
    feature_names: tuple[str, ...] = FEATURE_NAMES,
) -> WinModel:
    """Fit the blend on `train` (features, `season` and outcome `y`), then calibrate it.

    The trees use `feature_names` (the platform's set; a study of a candidate
    feature passes a longer one).

    Platt scaling needs scores the components did not train on: they come from
    folds of whole seasons (a season's games are not independent of each
    other). Calibrating on one season alone proved harmful: the 2020 season,
    played without crowds, moved the intercept by a home edge that was gone.
    """
    model = _fit_components(train, threads, feature_names)
    seasons = sorted(train["season"].unique())
    if calibrate and len(seasons) >= CALIBRATION_FOLDS:
        raw, y = _out_of_fold_raw(train, seasons, threads, feature_names)
        model.calibration = _platt(raw, y)
    return model


def _out_of_fold_raw(
    train: pd.DataFrame, seasons: list[int], threads: int, feature_names: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    raws, ys = [], []
    for fold in range(CALIBRATION_FOLDS):
        held = train["season"].isin(seasons[fold::CALIBRATION_FOLDS])
        part = _fit_components(train[~held], threads, feature_names)
        raws.append(part.raw_score(train[held]))
        ys.append(train.loc[held, "y"].to_numpy())
    return np.concatenate(raws), np.concatenate(ys)


def _fit_components(train: pd.DataFrame, threads: int, feature_names: tuple[str, ...]) -> WinModel:
    x = train[list(feature_names)].to_numpy(dtype=float)
    y = train["y"].to_numpy(dtype=float)
    elo_logit = logit(train["elo_p_home"].to_numpy())
    params = {**LGBM_PARAMS, "num_threads": threads}
    data = lgb.Dataset(x, y, init_score=elo_logit, feature_name=list(feature_names))
    booster = lgb.train(params, data, num_boost_round=LGBM_ROUNDS)
    return WinModel(
        kind="blend",
        feature_names=tuple(feature_names),
        booster_text=booster.model_to_string(),
        linear=_fit_linear(train, y),
        threads=threads,
    )


def _fit_linear(train: pd.DataFrame, y: np.ndarray) -> dict[str, list[float]]:
    from sklearn.linear_model import LogisticRegression

    z = train[list(LINEAR_FEATURES)].to_numpy(dtype=float).copy()
    z[:, 0] = logit(z[:, 0])
    mean, scale = z.mean(axis=0), z.std(axis=0)
    scale[scale == 0] = 1.0
    fit = LogisticRegression(C=LINEAR_L2, max_iter=2000).fit((z - mean) / scale, y)
    return {
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": fit.coef_[0].tolist(),
        "intercept": fit.intercept_.tolist(),
    }


def _platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y)
    return float(fit.coef_[0][0]), float(fit.intercept_[0])
