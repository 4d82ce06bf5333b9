"""`bullpen rollback`: put the previous model back at once.

The previous model's keys are re-warmed for the coming days first (they may
have expired), then the store and the Redis pointer flip and the change is
published, so every online replica switches together
(`bullpen.serving.active.rollback`, which `POST /v1/admin/rollback` calls too).
"""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Annotated

import typer


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
    from bullpen.cache.clients import sync_client
    from bullpen.serving import active
    from bullpen.serving.lifecycle import TransitionError
    from bullpen.settings import get_settings
    from bullpen.store import make_engine, upgrade

    settings = get_settings()
    url = database_url or settings.store.database_url
    upgrade(url)
    engine = make_engine(url)
    redis_settings = settings.redis.model_copy(update={"redis_url": redis_url} if redis_url else {})
    redis = sync_client(redis_settings)
    try:
        flip = active.rollback(
            engine, redis, f"cli:{getpass.getuser()}", redis_settings.cache_ttl_s, reason,
            dt.date.fromisoformat(as_of) if as_of else None, days,
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
    typer.echo(f"active: {flip.active} (was {flip.previous})")
    if flip.warmed is not None and flip.warmed_days:
        first, last = flip.warmed_days[0], flip.warmed_days[-1]
        if flip.warmed.empty:  # nothing to warm is not "everything warm"
            typer.echo(f"re-warmed nothing: no games scheduled {first}..{last}", err=True)
        else:
            typer.echo(
                f"re-warmed {first}..{last}: {flip.warmed.present}/{flip.warmed.expected} keys",
                err=True,
            )
