"""Plain-text tables for the benchmarks, and a JSON record of what they measured."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Right-aligned columns (the first left-aligned); floats with sensible precision."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = [_line([str(h) for h in headers], widths), *(_line(r, widths) for r in cells)]
    return "\n".join(lines)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(_align(c, w, i) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def _align(text: str, width: int, index: int) -> str:
    return text.ljust(width) if index == 0 else text.rjust(width)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if abs(value) < 0.01 else f"{value:.2f}"
    return str(value)


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def median_seconds(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def save(path: Path | None, name: str, record: dict[str, Any]) -> None:
    """Merge `record` under `name` into the JSON file at `path` (if given)."""
    if path is None:
        return
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = {"machine": machine(), "at": time.strftime("%Y-%m-%d %H:%M"), **record}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
