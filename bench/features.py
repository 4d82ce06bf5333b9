"""Feature-computation throughput over every bundled season, and peak memory.

    python -m bench.features [--repeat 5]

Reference, measured in the same run on the same rows: one pandas
groupby-cumsum over the team-game rows, the cheapest pass any per-team
pre-game aggregate has to make. The ratio says how many such passes the whole
feature build costs.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import pandas as pd

from bench.report import median_seconds
from bullpen.domain.features import FEATURE_NAMES, build_features
from bullpen.settings import get_settings
from bullpen.sources.parsed import read_gamelogs


def _reference(games: pd.DataFrame) -> None:
    long = pd.concat(
        [games[["home", "date", "home_score"]].set_axis(["team", "date", "runs"], axis=1),
         games[["away", "date", "away_score"]].set_axis(["team", "date", "runs"], axis=1)]
    )  # fmt: skip
    long.sort_values(["team", "date"]).groupby("team")["runs"].cumsum()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    settings = get_settings()
    start = time.perf_counter()
    games = read_gamelogs(settings.gamelogs.gamelogs_dir).frame()
    parse_s = time.perf_counter() - start
    seasons = games["season"].nunique()

    features_s = median_seconds(lambda: build_features(games), args.repeat)
    reference_s = median_seconds(lambda: _reference(games), args.repeat)
    tracemalloc.start()
    build_features(games)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"games: {len(games)} over {seasons} seasons; {len(FEATURE_NAMES)} features")
    print(
        f"parse + validate game logs:   {parse_s:8.2f} s  ({len(games) / parse_s:10,.0f} games/s)"
    )
    print(f"build_features (median of {args.repeat}): {features_s:6.2f} s"
          f"  ({len(games) / features_s:10,.0f} games/s)")  # fmt: skip
    print(f"reference groupby-cumsum:     {reference_s:8.3f} s"
          f"  ({len(games) / reference_s:10,.0f} games/s)")  # fmt: skip
    print(f"ratio features / reference:   {features_s / reference_s:8.1f}x")
    print(f"peak Python allocations during build_features: {peak / 2**20:,.0f} MiB")
    print(f"peak resident set of the process: {rss_mib:,.0f} MiB")


if __name__ == "__main__":
    main()
