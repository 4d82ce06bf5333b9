"""`bullpen ingest`: bad lines are reported with file and line, good ones load."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from bullpen.cli.main import app

runner = CliRunner()


def test_ingest_reports_and_quarantines_bad_lines(gamelogs_dir: Path, tmp_path: Path) -> None:
    lines = (gamelogs_dir / "GL2022.TXT").read_text(encoding="latin-1").splitlines()[:10]
    lines[4] = lines[4].replace('"20220407"', '"20221399"', 1)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "GL2022.TXT").write_text("\n".join(lines) + "\n", encoding="latin-1")
    (logs / "GL2021.TXT").write_text("", encoding="latin-1")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    args = ["ingest", "--gamelogs", str(logs), "--seasons", "2021-2022", "--database-url", url]

    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "GL2022.TXT:5: bad date '20221399'" in result.output
    assert "GL2021.TXT: file is empty" in result.output
    assert "GL2022.TXT: 9 games (9 new, 0 updated), 1 quarantined" in result.output

    again = runner.invoke(app, args)
    assert "GL2022.TXT: 9 games (0 new, 9 updated), 1 quarantined" in again.output
    with create_engine(url).connect() as conn:
        assert conn.execute(text("select count(*) from games")).scalar() == 9
        assert conn.execute(text("select line_number from quarantine")).scalars().all() == [5]
