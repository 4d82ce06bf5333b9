"""Walk-forward backtest of one season, with the Elo and constant baselines.

`run_backtest` trains the blend by the candidate's recipe on the seasons before
the test season only, so its scores estimate how the candidate will do on a
season it has not seen. They are also stored in the candidate's registry entry
under `backtest`.
"""

from pathlib import Path

import pandas as pd
from dagster import (
    AssetExecutionContext,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from assets.charts import calibration_chart
from assets.metadata import figure_png, image_markdown, markdown_table
from assets.resources import StoreResource
from bullpen.domain.backtest import BacktestError, BacktestResult, run_backtest
from bullpen.domain.metrics import calibration_table
from bullpen.serving.registry import add_metrics
from bullpen.settings import PROJECT_ROOT, get_settings
from bullpen.store import get_model, read_games

SCORES = ("brier", "log_loss", "accuracy", "calibration_error")


class BacktestConfig(Config):
    season: int | None = Field(
        default=None, description="Season to backtest; default: the last season in the store."
    )
    out_dir: str = Field(
        default=str(PROJECT_ROOT / "var" / "backtests"),
        description="Directory for the contract CSV (game_id,date,game_number,home,away,p_home).",
    )


@asset(
    deps=["games"],  # reads the stored games; run_backtest builds its own features
    description="Walk-forward backtest of one season: scores, calibration plot and CSV.",
)
def backtest_report(
    context: AssetExecutionContext,
    config: BacktestConfig,
    candidate_model: str,
    store: StoreResource,
) -> MaterializeResult:
    engine = store.engine()
    games = read_games(engine)
    if games.empty:
        raise Failure("the store holds no games: materialize `games` first")
    season = config.season if config.season is not None else int(games["season"].max())
    try:
        result = run_backtest(games, season, threads=get_settings().model_threads)
    except BacktestError as exc:
        if config.season is not None:  # asked for explicitly: a wrong season is an error
            raise Failure(f"backtest of {season} failed: {exc}") from exc
        # Defaulted, e.g. a store holding one season: nothing to backtest yet.
        context.log.warning(f"backtest skipped: {exc}")
        return MaterializeResult(metadata={"skipped": MetadataValue.text(str(exc))})
    path = _write_csv(result, Path(config.out_dir))
    if get_model(engine, candidate_model) is not None:
        add_metrics(engine, candidate_model, {"backtest": _registry_metrics(result)})
    context.log.info(f"backtest {season}: {result.metrics['model']} -> {path}")
    return MaterializeResult(metadata=_report_metadata(result, path, candidate_model))


def _write_csv(result: BacktestResult, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"backtest-{result.season}.csv"
    # Write then rename, so a reader never sees half a file and a re-run replaces it.
    partial = path.with_suffix(".csv.part")
    result.output().to_csv(partial, index=False, float_format="%.6f")
    partial.replace(path)
    return path


def _registry_metrics(result: BacktestResult) -> dict[str, object]:
    # Plain ints: the seasons come out of pandas as numpy integers, which JSON refuses.
    return {
        "season": int(result.season),
        "train_seasons": [int(s) for s in result.train_seasons],
        **result.metrics,
        "april_may": result.early,
        "by_month": result.monthly,
    }


def _report_metadata(
    result: BacktestResult, path: Path, candidate: str
) -> dict[str, MetadataValue]:
    scores = {
        f"{name}_{metric}": MetadataValue.float(round(values[metric], 5))
        for name, values in result.metrics.items()
        for metric in SCORES
    }
    table = markdown_table(
        ["model", *SCORES, "games"],
        [
            (name, *(values[m] for m in SCORES), int(values["games"]))
            for name, values in result.metrics.items()
        ],
    )
    early = {
        f"april_may_{name}_brier": MetadataValue.float(round(values["brier"], 5))
        for name, values in result.early.items()
    }
    return {
        "season": MetadataValue.int(result.season),
        "train_seasons": MetadataValue.json([int(s) for s in result.train_seasons]),
        "games": MetadataValue.int(len(result.predictions)),
        **scores,
        "scores": MetadataValue.md(table),
        **early,
        "by_month": MetadataValue.md(_month_table(result)),
        "calibration_plot": image_markdown(_calibration_png(result), "calibration"),
        "csv": MetadataValue.path(str(path)),
        "candidate_version": MetadataValue.text(candidate),
    }


def _month_table(result: BacktestResult) -> str:
    columns = ("month", "games", "mean_p", "observed", "brier", "elo_brier")
    return markdown_table(
        list(columns),
        [tuple(int(r[c]) if c == "games" else r[c] for c in columns) for r in result.monthly],
    )


def _calibration_png(result: BacktestResult) -> bytes:
    decided: pd.DataFrame = result.predictions.dropna(subset=["y"])
    y = decided["y"].to_numpy()
    tables = {
        "model": calibration_table(y, decided["p_home"].to_numpy()),
        "elo": calibration_table(y, decided["p_elo"].to_numpy()),
    }
    return figure_png(calibration_chart(tables, f"Calibration, season {result.season}"))
