"""`bullpen rollback`: put the previous model back at once.

Register it on the main app with ``app.add_typer(rollback_app, name="rollback")``:
the command is the group's callback, so it runs as `bullpen rollback [OPTIONS]`.
The previous model's keys are re-warmed for the coming days first (they may
have expired), then the store and the Redis pointer flip and the change is
published, so every online replica switches together.
"""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Annotated

import typer

rollback_app = typer.Typer(
    help="Put the previous model back (re-warming its keys first).",
    invoke_without_command=True,
)


@rollback_app.callback()
def rollback(
    reason: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
    as_of: Annotated[
        str | None, typer.Option(help="First day re-warmed, YYYY-MM-DD (default: today).")
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(min=1, help="Days re-warmed (default: BULLPEN_PROMOTION_WARM_DAYS)."),
    ] = None,
    database_url: Annotated[str | None, typer.Option(help="Default: BULLPEN_DATABASE_URL.")] = None,
    redis_url: Annotated[str | None, typer.Option(help="Default: BULLPEN_REDIS_URL.")] = None,
) -> None:
    """Roll back to the model that served before the current one."""
    from bullpen.promotion import TransitionError
    from bullpen.promotion import rollback as do_rollback
    from bullpen.redis_client import make_sync_redis
    from bullpen.settings import get_settings
    from bullpen.store import make_engine, upgrade
    from bullpen.warming import coming_days, warm_model

    settings = get_settings()
    url = database_url or settings.database_url
    upgrade(url)
    engine = make_engine(url)
    redis = make_sync_redis(redis_url or settings.redis_url, settings.redis_cluster)
    dates = coming_days(dt.date.fromisoformat(as_of) if as_of else None, days)
    try:
        flip = do_rollback(
            engine, redis, f"cli:{getpass.getuser()}",
            warm=lambda entry: warm_model(engine, redis, entry, dates, settings.cache_ttl_s),
            reason=reason,
        )  # fmt: skip
    except (LookupError, TransitionError) as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")
        raise typer.Exit(code=1) from None
    finally:
        redis.close()
        engine.dispose()
    if not flip.changed:
        typer.echo(f"{flip.active} was already active")
        return
    coverage = flip.warmed
    typer.echo(f"active: {flip.active} (was {flip.previous})")
    typer.echo(
        f"re-warmed {dates[0]}..{dates[-1]}: {coverage.present}/{coverage.expected} keys",
        err=True,
    )
