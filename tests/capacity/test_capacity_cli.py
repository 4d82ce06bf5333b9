"""`bullpen capacity`: prints its table, writes its PNG."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from bullpen.cli_capacity import capacity, capacity_app

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _root_with_capacity() -> typer.Typer:
    """The way the main `bullpen` app registers it."""
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        pass

    root.add_typer(capacity_app, name="capacity")
    return root


def test_prints_the_table_and_writes_the_png(tmp_path: Path) -> None:
    out = tmp_path / "plots" / "capacity.png"
    result = CliRunner().invoke(_root_with_capacity(), ["capacity", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(PNG_MAGIC)
    text = result.output
    assert "hpa.yaml" in text
    assert "placeholder" in text
    assert "peak req/s" in text and "requests over capacity" in text
    assert "5,000 requests per second" in text
    assert "10,000 users" in text
    # One row per hour of the day.
    rows = [line for line in text.splitlines() if line.strip()[:2].strip().isdigit()]
    assert len(rows) >= 24
    assert f"wrote {out}" in text


def test_measured_throughput_changes_the_plan(tmp_path: Path) -> None:
    out = tmp_path / "c.png"
    result = CliRunner().invoke(
        capacity_app, ["--throughput", "250", "--startup", "90", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "placeholder" not in result.output
    # 5,000 req/s at 70% of 250 req/s per pod.
    line = next(x for x in result.output.splitlines() if x.startswith("5,000 requests"))
    assert line.split()[-2:] == ["29", "20"]
    assert "above maxReplicas" in result.output
    assert out.is_file()


def test_help_says_the_default_throughput_is_a_placeholder() -> None:
    result = CliRunner().invoke(capacity_app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "PLACEHOLDER" in result.output


def test_missing_manifest_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        capacity_app, ["--hpa", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "c.png")]
    )
    assert result.exit_code == 2


def test_also_registers_as_a_plain_command(tmp_path: Path) -> None:
    root = typer.Typer()
    root.command(name="capacity")(capacity)

    @root.command()
    def other() -> None:
        pass

    out = tmp_path / "c.png"
    result = CliRunner().invoke(root, ["capacity", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
