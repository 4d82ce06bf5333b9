"""The live scorecard as an asset: graded after results arrive (the feed sensor asks for it)."""

import datetime as dt

from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from assets.charts import scorecard_chart
from assets.metadata import figure_png, image_markdown, markdown_table
from assets.resources import StoreResource
from bullpen.serving.scorecard import scorecard


class ScorecardConfig(Config):
    season: int = Field(
        default_factory=lambda: dt.date.today().year, description="The season to grade."
    )


@asset(
    description="Daily and season-to-date Brier and log loss of the prices published before "
    "first pitch, per model version, beside the Elo baseline (`GET /v1/scorecard`)."
)
def live_scorecard(
    context: AssetExecutionContext, config: ScorecardConfig, store: StoreResource
) -> MaterializeResult:
    card = scorecard(store.engine(), config.season)
    context.log.info(
        f"{config.season}: {card['graded_games']} games graded, "
        f"{card['excluded_after_first_pitch']} prices after first pitch excluded"
    )
    rows = [(v, s["games"], s["brier"], s["elo_brier"], s["log_loss"], s["elo_log_loss"])
            for v, s in card["models"].items()]  # fmt: skip
    metadata = {
        "season": MetadataValue.int(config.season),
        "graded_games": MetadataValue.int(card["graded_games"]),
        "excluded_after_first_pitch": MetadataValue.int(card["excluded_after_first_pitch"]),
        "models": MetadataValue.md(
            markdown_table(
                ["model", "games", "brier", "elo brier", "log loss", "elo log loss"], rows
            )
        ),
    }
    if card["days"]:
        metadata["season_to_date"] = image_markdown(
            figure_png(scorecard_chart(card["days"])), "season-to-date Brier"
        )
    return MaterializeResult(metadata=metadata)
