"""`bullpen-loadtest`: Locust against a running deployment, with the SLO verdict (loopback only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Load-test a running deployment with Locust (loopback only).")


@app.command()
def loadtest(
    host: Annotated[str | None, typer.Option(help="Default: BULLPEN_LOADTEST_HOST.")] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="BULLPEN_LOADTEST_API_KEY", help="A read-scope key.", show_default=False
        ),
    ] = None,
    dates: Annotated[str | None, typer.Option(help="Comma-separated slate dates.")] = None,
    users: Annotated[int | None, typer.Option(help="Users at the peak.")] = None,
    ramp_up: Annotated[float | None, typer.Option(help="Seconds of ramp-up.")] = None,
    sustain: Annotated[float | None, typer.Option(help="Seconds at the peak.")] = None,
    ramp_down: Annotated[float | None, typer.Option(help="Seconds of ramp-down.")] = None,
    out: Annotated[Path, typer.Option(help="Directory for Locust's CSV and HTML.")] = Path(
        "var/loadtest"
    ),
) -> None:
    """Ramp up, sustain, ramp down; print p50/p95/p99/max, req/s, errors and the SLO verdict.

    Exit code 0 if the SLOs held, 1 if not, 2 if the test could not run.
    """
    from loadtest.runner import LoadTestError, Plan, format_summary, run, verdict
    from loadtest.settings import get_loadtest_settings

    s = get_loadtest_settings()
    key = api_key or (s.api_key.get_secret_value() if s.api_key else "")
    if not key:
        typer.secho("error: no API key (--api-key or BULLPEN_LOADTEST_API_KEY)", err=True)
        raise typer.Exit(2)
    plan = Plan(
        host=host or s.host, api_key=key,
        dates=[d.strip() for d in (dates or s.dates).split(",") if d.strip()],
        out_dir=out, users=users or s.users,
        ramp_up_s=s.ramp_up_s if ramp_up is None else ramp_up,
        sustain_s=s.sustain_s if sustain is None else sustain,
        ramp_down_s=s.ramp_down_s if ramp_down is None else ramp_down,
        wait_min_s=s.wait_min_s, wait_max_s=s.wait_max_s,
        slo_p95_ms=s.slo_p95_ms, slo_error_rate=s.slo_error_rate,
    )  # fmt: skip
    typer.echo(
        f"locust against {plan.host}: {plan.users} users, {plan.ramp_up_s:g} s up, "
        f"{plan.sustain_s:g} s sustained, {plan.ramp_down_s:g} s down; dates {plan.dates}"
    )
    try:
        summary = run(plan)
    except LoadTestError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    typer.echo(format_summary(summary, plan.slo_p95_ms, plan.slo_error_rate))
    if verdict(summary, plan.slo_p95_ms, plan.slo_error_rate):
        raise typer.Exit(1)
