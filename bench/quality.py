"""Prediction quality on seasons the model never trained on, beside the baselines.

    bullpen-bench quality [--seasons 2017,2018,2019,2021,2022,2023] [--lever NAME ...]

Every season is a walk-forward backtest (`run_backtest`: train on the seasons
before it, score it). The validation seasons (2017, 2018, 2019, 2021) are the
only ones any setting may be chosen on; 2022 and 2023 are reported beside them
and never tuned on. References: the Elo baseline scored on the same games, and
FiveThirtyEight's published Brier for 2022 (their game-level predictions are not
in the bundled data, so their April-May figure is not either).

A lever (`bench/levers.py`) is measured by adding its columns to the features
and training the same blend on them: the table shows each season with and
without it. The reference run (the platform's features) and the timings (all
features, one 2022 backtest) come from the same process.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from bench.levers import LEVERS
from bullpen.domain.backtest import BacktestResult, run_backtest
from bullpen.domain.features import FEATURE_NAMES, build_features
from bullpen.settings import get_settings
from bullpen.sources.parsed import read_gamelogs

VALIDATION = (2017, 2018, 2019, 2021)
FIVETHIRTYEIGHT = {2022: 0.2377}  # their pitcher-adjusted Elo, published season Brier


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seasons", default="2017,2018,2019,2021,2022,2023")
    parser.add_argument("--lever", action="append", default=[], choices=sorted(LEVERS))
    parser.add_argument("--threads", type=int, default=get_settings().model_threads)
    args = parser.parse_args(argv)
    seasons = [int(s) for s in args.seasons.split(",")]

    parsed = read_gamelogs(get_settings().gamelogs.gamelogs_dir)
    games = parsed.frame()
    start = time.perf_counter()
    features = build_features(games)
    features_s = time.perf_counter() - start
    start = time.perf_counter()
    run_backtest(games, 2022, args.threads)
    backtest_s = time.perf_counter() - start
    print(f"{len(games)} games, {games['season'].nunique()} seasons; features {features_s:.1f} s,"
          f" 2022 backtest (features included) {backtest_s:.1f} s")  # fmt: skip

    base = {s: run_backtest(games, s, args.threads, features) for s in seasons}
    _report("platform features", base, None)
    _report_months(base)
    for name in args.lever:
        build, what = LEVERS[name]
        extra = build(games, parsed.games)
        with_lever = features.join(extra, on="game_id")
        names = (*FEATURE_NAMES, *extra.columns)
        runs = {s: run_backtest(games, s, args.threads, with_lever, names) for s in seasons}
        _report(f"+ {name}: {what}", runs, base)


def _report(
    title: str, runs: dict[int, BacktestResult], base: dict[int, BacktestResult] | None
) -> None:
    print(f"\n{title}")
    print(f"{'season':<8}{'games':>6}{'model':>9}{'elo':>9}{'538':>8}{'Apr-May':>9}"
          f"{'elo A-M':>9}{'vs ref':>9}")  # fmt: skip
    for season, r in runs.items():
        model, elo = r.metrics["model"]["brier"], r.metrics["elo"]["brier"]
        ref = FIVETHIRTYEIGHT.get(season)
        delta = model - base[season].metrics["model"]["brier"] if base else 0.0
        print(f"{season:<8}{int(r.metrics['model']['games']):>6}{model:>9.5f}{elo:>9.5f}"
              f"{(f'{ref:.4f}' if ref else '-'):>8}{r.early['model']['brier']:>9.5f}"
              f"{r.early['elo']['brier']:>9.5f}{delta:>+9.5f}")  # fmt: skip
    held = [s for s in VALIDATION if s in runs]
    if held:
        mean = np.mean([runs[s].metrics["model"]["brier"] for s in held])
        early = np.mean([runs[s].early["model"]["brier"] for s in held])
        print(f"validation mean ({', '.join(map(str, held))}): {mean:.5f}, April-May {early:.5f}")


def _report_months(runs: dict[int, BacktestResult]) -> None:
    """Calibration by month, pooled over the validation seasons (where April may be fixed)."""
    rows = [{**m, "season": s} for s, r in runs.items() if s in VALIDATION for m in r.monthly]
    if not rows:
        return
    frame = pd.DataFrame(rows)
    frame["p_sum"] = frame["mean_p"] * frame["games"]
    frame["y_sum"] = frame["observed"] * frame["games"]
    frame["b_sum"] = frame["brier"] * frame["games"]
    frame["e_sum"] = frame["elo_brier"] * frame["games"]
    pooled = frame.groupby("month", sort=False)[["games", "p_sum", "y_sum", "b_sum", "e_sum"]].sum()
    print("\ncalibration by month, validation seasons pooled")
    print(f"{'month':<7}{'games':>6}{'mean_p':>8}{'observed':>9}{'brier':>9}{'elo':>9}")
    for month, m in pooled.iterrows():
        g = m["games"]
        print(f"{month:<7}{int(g):>6}{m['p_sum'] / g:>8.4f}{m['y_sum'] / g:>9.4f}"
              f"{m['b_sum'] / g:>9.5f}{m['e_sum'] / g:>9.5f}")  # fmt: skip


if __name__ == "__main__":
    main()
