"""`bullpen-capacity`: prints its table, writes its PNG."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from capacity.cli import app

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_prints_the_table_and_writes_the_png(tmp_path: Path) -> None:
    out = tmp_path / "plots" / "capacity.png"
    result = CliRunner().invoke(app, ["--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(PNG_MAGIC)
    text = result.output
    assert "hpa.yaml" in text
    assert "measured by `bullpen-bench balanced`" in text
    assert "peak req/s" in text and "requests over capacity" in text
    assert "5,000 requests per second" in text
    assert "10,000 users" in text
    # One row per hour of the day.
    rows = [line for line in text.splitlines() if line.strip()[:2].strip().isdigit()]
    assert len(rows) >= 24
    assert f"wrote {out}" in text


def test_measured_throughput_changes_the_plan(tmp_path: Path) -> None:
    out = tmp_path / "c.png"
    result = CliRunner().invoke(app, ["--throughput", "250", "--startup", "90", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "measured by" not in result.output
    # 5,000 req/s at 70% of 250 req/s per pod.
    line = next(x for x in result.output.splitlines() if x.startswith("5,000 requests"))
    assert line.split()[-2:] == ["29", "20"]
    assert "above maxReplicas" in result.output
    assert out.is_file()


def test_help_says_where_the_default_throughput_comes_from() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "1250" in result.output and "bullpen-bench" in result.output


def test_missing_manifest_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["--hpa", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "c.png")]
    )
    assert result.exit_code == 2
