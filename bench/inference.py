"""Model inference: LightGBM beside compiled forms of the same trees.

    python -m bench.inference [--repeat 5] [--json var/perf/results.json]

Trains a real blend (`bullpen.domain.model` via `fit_for_seasons`) on 2015-2019 and scores the
2020-2021 games' features. Rows: the booster through LightGBM (one thread and the
default pool), the same trees compiled by lleaves (LLVM) and by TL2cgen (C via gcc,
from a Treelite model), and the whole blend (`WinModel.predict`) with LightGBM or
with the lleaves-compiled booster. Each prints single-row latency (median and p99
of individual calls, numpy row) and batch rows/second, and the largest absolute
difference from LightGBM's raw scores (must be <= 1e-6).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from bench.report import machine, save, table
from bullpen.domain.model import WinModel

TRAIN_SEASONS = list(range(2015, 2020))
TEST_SEASONS = [2020, 2021]
SINGLE_CALLS = 2000
TOLERANCE = 1e-6


def train(threads: int = 2) -> tuple[WinModel, np.ndarray]:
    """A blend trained on TRAIN_SEASONS and the feature matrix of TEST_SEASONS."""
    from bullpen.domain.backtest import fit_for_seasons
    from bullpen.domain.features import FEATURE_NAMES, build_features
    from bullpen.settings import get_settings
    from bullpen.sources.parsed import read_gamelogs

    seasons = range(TRAIN_SEASONS[0] - 1, TEST_SEASONS[-1] + 1)
    games = read_gamelogs(get_settings().gamelogs.gamelogs_dir, seasons).frame()
    features = build_features(games)
    model = fit_for_seasons(features, games, TRAIN_SEASONS, threads)
    model.threads = 1
    test = features[features["season"].isin(TEST_SEASONS)]
    return model, test[list(FEATURE_NAMES)].to_numpy(dtype=float)


def compile_lleaves(booster_text: str, workdir: Path) -> Any:
    """The booster compiled to machine code by lleaves; `.predict(x)` gives raw scores."""
    import lleaves

    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "booster.txt"
    path.write_text(booster_text)
    model = lleaves.Model(model_file=str(path))
    model.compile(cache=str(workdir / "booster.o"), raw_score=True)
    return model


def compile_tl2cgen(booster_text: str, workdir: Path) -> Any:
    """The booster as C compiled by gcc (Treelite model, TL2cgen); raw scores."""
    import tl2cgen
    import treelite

    model = treelite.frontend.from_lightgbm(lgb.Booster(model_str=booster_text))
    workdir.mkdir(parents=True, exist_ok=True)
    lib = workdir / "booster.so"
    tl2cgen.export_lib(model, toolchain="gcc", libpath=str(lib), params={"parallel_comp": 8})
    return tl2cgen.Predictor(str(lib), nthread=1)


class CompiledWinModel(WinModel):
    """A WinModel whose booster component is a compiled predictor (same formula)."""

    compiled: Any = None

    def _booster_raw(self, x: np.ndarray) -> np.ndarray:
        return self.compiled.predict(x, n_jobs=1)


def with_compiled(model: WinModel, compiled: Any) -> CompiledWinModel:
    out = CompiledWinModel.from_bytes(model.to_bytes(), threads=1)
    out.compiled = compiled
    return out  # type: ignore[return-value]


@dataclass
class Row:
    name: str
    single_us: float
    single_p99_us: float
    rows_per_s: float
    max_diff: float | None = None
    notes: list[str] = field(default_factory=list)


def single(fn: Callable[[np.ndarray], Any], x: np.ndarray) -> tuple[float, float]:
    """Median and p99 microseconds of one call on one numpy row."""
    rows = [x[i : i + 1] for i in range(min(len(x), 200))]
    for r in rows[:20]:
        fn(r)
    times = []
    for i in range(SINGLE_CALLS):
        r = rows[i % len(rows)]
        start = time.perf_counter_ns()
        fn(r)
        times.append(time.perf_counter_ns() - start)
    times.sort()
    return times[len(times) // 2] / 1e3, times[int(len(times) * 0.99)] / 1e3


def batch(fn: Callable[[np.ndarray], Any], x: np.ndarray, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return len(x) / statistics.median(times)


def measure(
    name: str, fn: Callable[[np.ndarray], Any], x: np.ndarray, repeat: int, ref: np.ndarray | None
) -> Row:
    medians, p99s = zip(*(single(fn, x) for _ in range(repeat)), strict=True)
    diff = float(np.max(np.abs(np.asarray(fn(x)) - ref))) if ref is not None else None
    return Row(name, statistics.median(medians), statistics.median(p99s), batch(fn, x, repeat),
               diff)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model, x = train()
    print(f"trained a blend on {TRAIN_SEASONS[0]}-{TRAIN_SEASONS[-1]} in "
          f"{time.perf_counter() - started:.1f} s; scoring {len(x):,} rows of "
          f"{TEST_SEASONS}; {machine()}")  # fmt: skip
    booster = lgb.Booster(model_str=model.booster_text)
    ref = booster.predict(x, raw_score=True, num_threads=1)
    workdir = Path(tempfile.mkdtemp(prefix="bullpen-inference-"))
    rows = [
        measure("lightgbm booster, 1 thread",
                lambda a: booster.predict(a, raw_score=True, num_threads=1), x, args.repeat, ref),
        measure(f"lightgbm booster, default pool ({os.cpu_count()} threads)",
                lambda a: booster.predict(a, raw_score=True), x, args.repeat, ref),
    ]  # fmt: skip
    compiled: dict[str, Any] = {}
    for name, build in (("lleaves", compile_lleaves), ("tl2cgen", compile_tl2cgen)):
        try:
            start = time.perf_counter()
            compiled[name] = build(model.booster_text or "", workdir / name)
            took = time.perf_counter() - start
        except Exception as exc:  # an optional backend: report, do not fail the benchmark
            print(f"{name}: not available ({exc!r})")
            continue
        predict = _predictor(name, compiled[name])
        row = measure(f"{name} compiled booster", predict, x, args.repeat, ref)
        row.notes.append(f"compile {took:.1f} s")
        rows.append(row)
    blend_ref = model.predict(x)
    rows.append(measure("WinModel.predict (blend, lightgbm)", model.predict, x, args.repeat,
                        blend_ref))  # fmt: skip
    if "lleaves" in compiled:
        fast = with_compiled(model, compiled["lleaves"])
        rows.append(measure("WinModel.predict (blend, lleaves)", fast.predict, x, args.repeat,
                            blend_ref))  # fmt: skip
    base = rows[0]
    print(table(
        ["scorer", "1 row µs", "1 row p99 µs", "rows/s", "÷ lightgbm 1 row", "max |diff|",
         "notes"],
        [[r.name, r.single_us, r.single_p99_us, r.rows_per_s, r.single_us / base.single_us,
          "-" if r.max_diff is None else f"{r.max_diff:.1e}", "; ".join(r.notes)] for r in rows],
    ))  # fmt: skip
    bad = [r.name for r in rows if r.max_diff is not None and r.max_diff > TOLERANCE]
    print(f"all outputs within {TOLERANCE:g} of LightGBM" if not bad else f"MISMATCH: {bad}")
    save(args.json, "inference", {"rows": [r.__dict__ for r in rows], "test_rows": len(x)})


def _predictor(name: str, compiled: Any) -> Callable[[np.ndarray], Any]:
    if name == "lleaves":
        return lambda a: compiled.predict(a, n_jobs=1)
    import tl2cgen

    return lambda a: compiled.predict(tl2cgen.DMatrix(a), pred_margin=True).reshape(-1)


if __name__ == "__main__":
    main()
