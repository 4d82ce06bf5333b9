"""The formatting helper behind the assets' metadata tables."""

from __future__ import annotations

from assets.metadata import markdown_table


def test_markdown_table_keeps_one_row_per_record() -> None:
    table = markdown_table(["file", "reason"], [("GL2022.TXT", "a | b\nc"), ("x", 0.123456)])
    assert table.splitlines() == [
        "| file | reason |",
        "|---|---|",
        "| GL2022.TXT | a \\| b c |",
        "| x | 0.1235 |",
    ]
