"""The model's closing-line value as an asset, beside the scorecard (graded after results)."""

import datetime as dt

from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from assets.charts import clv_chart
from assets.metadata import figure_png, image_markdown, markdown_table
from assets.resources import StoreResource
from bullpen.serving.model_clv import model_clv


class ModelClvConfig(Config):
    season: int = Field(
        default_factory=lambda: dt.date.today().year, description="The season to grade."
    )
    ev_threshold: float = Field(
        default=0.0, ge=0.0, le=1.0, description="A side is recommended when its EV is above this."
    )


@asset(
    description="The model's recommendations (a published price with EV above the threshold "
    "at the best price of its moment) against the closing line: count, mean CLV, how many "
    "beat the close, per model version and season to date."
)
def model_clv_report(
    context: AssetExecutionContext, config: ModelClvConfig, store: StoreResource
) -> MaterializeResult:
    report = model_clv(store.engine(), config.season, config.ev_threshold)
    context.log.info(
        f"{config.season}: {report['recommendations']} recommendations graded, "
        f"mean CLV {report['mean_clv']}, {report['waiting_for_close']} waiting for a close"
    )
    rows = [(v, s["recommendations"], s["mean_clv"], s["beat_close"])
            for v, s in report["models"].items()]  # fmt: skip
    metadata = {
        "season": MetadataValue.int(config.season),
        "recommendations": MetadataValue.int(report["recommendations"]),
        "mean_clv": MetadataValue.float(report["mean_clv"] or 0.0),
        "beat_close": MetadataValue.int(report["beat_close"]),
        "waiting_for_close": MetadataValue.int(report["waiting_for_close"]),
        "models": MetadataValue.md(
            markdown_table(["model", "recommendations", "mean CLV", "beat the close"], rows)
        ),
    }
    if report["days"]:
        metadata["season_to_date"] = image_markdown(
            figure_png(clv_chart(report["days"])), "season-to-date CLV"
        )
    return MaterializeResult(metadata=metadata)
