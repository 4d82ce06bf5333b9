"""Formatting helpers for asset metadata: markdown tables and embedded PNG charts."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence
from typing import Any

from dagster import MetadataValue
from matplotlib.figure import Figure


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-style markdown table; `|` in cells is escaped so a reason cannot break a row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = (_cell(value) for value in row)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def figure_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return buffer.getvalue()


def image_markdown(png: bytes, alt: str) -> MetadataValue:
    """A PNG shown inline in the Dagster UI: markdown with a base64 data-URI image."""
    encoded = base64.b64encode(png).decode("ascii")
    return MetadataValue.md(f"![{alt}](data:image/png;base64,{encoded})")
