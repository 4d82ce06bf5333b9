"""Features → training set → registered models (the LightGBM blend and the Elo baseline)."""

from typing import Any

import pandas as pd
from dagster import AssetExecutionContext, Failure, MetadataValue, Output, asset

from assets.charts import importance_chart
from assets.metadata import figure_png, image_markdown, markdown_table
from assets.resources import StoreResource
from bullpen.domain.features import ELO_PARAMS, FEATURE_NAMES, FEATURE_VERSION
from bullpen.domain.metrics import score
from bullpen.domain.model import (
    LGBM_PARAMS,
    LGBM_ROUNDS,
    LINEAR_FEATURES,
    LINEAR_L2,
    WinModel,
    elo_model,
    train_blend,
)
from bullpen.domain.training import labelled, training_seasons
from bullpen.serving.gates import holdout_start
from bullpen.serving.registry import register
from bullpen.settings import get_settings
from bullpen.store import ModelEntry, read_features, read_games

TOP_FEATURES = 10


@asset(
    deps=["game_features"],
    description="Stored features of the decided games of the training seasons, outcome in `y`.",
)
def training_set(context: AssetExecutionContext, store: StoreResource) -> Output[pd.DataFrame]:
    engine = store.engine()
    games = read_games(engine)
    features = read_features(engine, FEATURE_VERSION)
    missing = sorted(set(FEATURE_NAMES) - set(features.columns))
    if games.empty or missing:
        raise Failure(
            f"no complete {FEATURE_VERSION} features (missing {missing[:5]}...): "
            "materialize `game_features` first"
        )
    available = sorted(int(s) for s in games["season"].unique())
    # A model for the season after the last one stored may use every season
    # (but the first, whose histories start from nothing).
    seasons = training_seasons(available, before=available[-1] + 1)
    with_season = features.merge(games[["game_id", "season"]], on="game_id", validate="1:1")
    frame = labelled(with_season[with_season["season"].isin(seasons)], games)
    # The last weeks stay out: the promotion checks compare candidate and blue on
    # games neither trained on (assets/modeling/checks.py).
    holdout = holdout_start(frame["date"], get_settings().promotion.holdout_days)
    frame = frame[frame["date"] < pd.Timestamp(holdout)].reset_index(drop=True)
    context.log.info(
        f"training set: {len(frame)} decided games of seasons {seasons}, before {holdout}"
    )
    return Output(
        frame,
        metadata={
            "rows": MetadataValue.int(len(frame)),
            "seasons": MetadataValue.json(seasons),
            "held_out_from": MetadataValue.text(holdout.isoformat()),
            "home_win_rate": MetadataValue.float(round(float(frame["y"].mean()), 4)),
        },
    )


@asset(description="The LightGBM + logistic blend trained on the training set, registered.")
def candidate_model(
    context: AssetExecutionContext, training_set: pd.DataFrame, store: StoreResource
) -> Output[str]:
    threads = get_settings().model_threads
    model = train_blend(training_set, threads=threads)
    entry = _register(store, model, training_set, _blend_params(model, threads))
    context.log.info(f"registered {entry.version}")
    importance = model.feature_importance()
    metadata = _entry_metadata(entry) | {
        "feature_importance": image_markdown(
            figure_png(importance_chart(importance)), "feature importance"
        ),
        "top_features": MetadataValue.md(_top_features(importance)),
    }
    return Output(entry.version, metadata=metadata)


@asset(description="The Elo baseline as a registered model, scored on the same training set.")
def elo_baseline_model(
    context: AssetExecutionContext, training_set: pd.DataFrame, store: StoreResource
) -> Output[str]:
    entry = _register(store, elo_model(), training_set, {"elo": ELO_PARAMS.as_dict()})
    context.log.info(f"registered {entry.version}")
    return Output(entry.version, metadata=_entry_metadata(entry))


def _register(
    store: StoreResource, model: WinModel, train: pd.DataFrame, params: dict[str, Any]
) -> ModelEntry:
    seasons = sorted(int(s) for s in train["season"].unique())
    in_sample = score(train["y"].to_numpy(), model.predict(train))
    metrics: dict[str, Any] = {"in_sample": in_sample}
    if card := model.card():
        metrics["card"] = card
    # The first date it did not train on: where the checks' unseen window may start.
    until = (pd.Timestamp(train["date"].max()) + pd.Timedelta(days=1)).date().isoformat()
    params = {**params, "train_until": until}
    return register(store.engine(), model, seasons, params, metrics)


def _blend_params(model: WinModel, threads: int) -> dict[str, Any]:
    return {
        "lgbm": LGBM_PARAMS,
        "rounds": LGBM_ROUNDS,
        "linear_features": list(LINEAR_FEATURES),
        "linear_l2": LINEAR_L2,
        "calibration": list(model.calibration),
        "threads": threads,
    }


def _entry_metadata(entry: ModelEntry) -> dict[str, MetadataValue]:
    in_sample = entry.metrics["in_sample"]
    return {
        "version": MetadataValue.text(entry.version),
        "kind": MetadataValue.text(entry.kind),
        "feature_version": MetadataValue.text(entry.feature_version or ""),
        "train_seasons": MetadataValue.text(f"{entry.train_seasons_from}-{entry.train_seasons_to}"),
        "in_sample_brier": MetadataValue.float(round(in_sample["brier"], 5)),
        "in_sample_log_loss": MetadataValue.float(round(in_sample["log_loss"], 5)),
        "train_games": MetadataValue.int(int(in_sample["games"])),
    }


def _top_features(importance: dict[str, float]) -> str:
    ranked = sorted(importance.items(), key=lambda item: item[1], reverse=True)[:TOP_FEATURES]
    total = sum(importance.values()) or 1.0
    return markdown_table(
        ["rank", "feature", "gain", "share"],
        [
            (rank, name, f"{gain:.1f}", f"{gain / total:.1%}")
            for rank, (name, gain) in enumerate(ranked, 1)
        ],
    )
