"""Charts for asset metadata, drawn without pyplot's global state.

`Figure` objects are created directly (no `plt.figure()`): nothing accumulates
between runs, and no GUI backend is needed on a headless worker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure


def importance_chart(importance: Mapping[str, float], top: int = 20) -> Figure:
    """Horizontal bars of the `top` features by total gain, largest on top."""
    ranked = sorted(importance.items(), key=lambda item: item[1], reverse=True)[:top]
    names = [name for name, _ in reversed(ranked)]
    gains = [gain for _, gain in reversed(ranked)]
    figure = Figure(figsize=(7, 0.3 * len(names) + 1.2))
    axes = figure.add_subplot()
    axes.barh(names, gains, color="#3b6ea5")
    axes.set_xlabel("total gain (LightGBM component)")
    axes.set_title(f"Feature importance, top {len(names)}")
    axes.tick_params(axis="y", labelsize=8)
    return figure


MIN_BIN_GAMES = 20


def calibration_chart(tables: Mapping[str, Sequence[Mapping[str, float]]], title: str) -> Figure:
    """Observed home-win rate against mean prediction per bin, one line per model.

    Bins with fewer than MIN_BIN_GAMES games are left out: an observed rate of
    0 or 1 from two games would dominate the picture while meaning nothing.
    """
    tables = {
        name: [row for row in table if row["count"] >= MIN_BIN_GAMES]
        for name, table in tables.items()
    }
    figure = Figure(figsize=(5.5, 5))
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for name, table in tables.items():
        axes.plot(
            [row["mean_p"] for row in table],
            [row["observed"] for row in table],
            marker="o",
            label=name,
        )
    # Predictions rarely leave 0.3-0.7; zoom to the data instead of the unit square.
    low, high = _limits(tables)
    axes.set_xlim(low, high)
    axes.set_ylim(low, high)
    axes.set_xlabel("predicted P(home win), bin mean")
    axes.set_ylabel("observed home-win rate")
    axes.set_title(f"{title}\n(bins of 0.1 with at least {MIN_BIN_GAMES} games)", fontsize=10)
    axes.legend(loc="upper left")
    return figure


def _limits(tables: Mapping[str, Sequence[Mapping[str, float]]]) -> tuple[float, float]:
    keys = ("mean_p", "observed")
    values = [row[key] for table in tables.values() for row in table for key in keys]
    if not values:
        return 0.0, 1.0
    return max(0.0, min(values) - 0.05), min(1.0, max(values) + 0.05)


def scorecard_chart(days: Sequence[Mapping[str, Any]]) -> Figure:
    """Season-to-date Brier by date: one line per model version, and Elo on the same games."""
    figure = Figure(figsize=(7, 4))
    axes = figure.add_subplot()
    versions = sorted({str(day["model_version"]) for day in days})
    for version in versions:
        mine = [day for day in days if day["model_version"] == version]
        dates = [str(day["date"]) for day in mine]
        to_date = [day["season_to_date"] for day in mine]
        axes.plot(dates, [s["brier"] for s in to_date], marker="o", label=version)
        axes.plot(dates, [s["elo_brier"] for s in to_date], linestyle="--",
                  label=f"Elo on {version}'s games")  # fmt: skip
    axes.set_ylabel("Brier, season to date (lower is better)")
    axes.set_title("Published prices graded at first pitch")
    axes.tick_params(axis="x", labelrotation=60, labelsize=7)
    axes.legend(fontsize=8)
    return figure


def clv_chart(days: Sequence[Mapping[str, Any]]) -> Figure:
    """Season-to-date mean CLV of the model's recommendations by date, per model version."""
    figure = Figure(figsize=(7, 4))
    axes = figure.add_subplot()
    for version in sorted({str(day["model_version"]) for day in days}):
        mine = [day for day in days if day["model_version"] == version]
        axes.plot([str(day["date"]) for day in mine],
                  [day["season_to_date"]["mean_clv"] for day in mine], marker="o",
                  label=version)  # fmt: skip
    axes.axhline(0.0, color="grey", linewidth=0.8)
    axes.set_ylabel("mean CLV, season to date (above 0 beats the close)")
    axes.set_title("The model's recommendations against the closing line")
    axes.tick_params(axis="x", labelrotation=60, labelsize=7)
    axes.legend(fontsize=8)
    return figure
