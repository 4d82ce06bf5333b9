"""`bullpen apikey create|list|revoke`: manage the online tier's API keys.

The HMAC secret comes from `BULLPEN_API_KEY_SECRET` (`bullpen.settings`, the same
setting the API reads), so keys created here verify in the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

apikey_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)

DbOption = Annotated[str | None, typer.Option(help="Default: BULLPEN_DATABASE_URL.")]


def _engine(database_url: str | None) -> Engine:
    from bullpen.settings import get_settings
    from bullpen.store import make_engine, upgrade

    url = database_url or get_settings().store.database_url
    upgrade(url)
    return make_engine(url)


@apikey_app.command()
def create(
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    scope: Annotated[str, typer.Option(help="read or admin.")] = "read",
    database_url: DbOption = None,
) -> None:
    """Create a key and print it once; only its HMAC is stored."""
    from bullpen.domain.apikeys import SCOPES
    from bullpen.settings import get_settings
    from bullpen.store.apikeys import create_key

    if scope not in SCOPES:
        typer.secho(f"error: scope must be one of {', '.join(SCOPES)}", err=True, fg="red")
        raise typer.Exit(code=2)
    secret = get_settings().auth.api_key_secret.get_secret_value()
    engine = _engine(database_url)
    try:
        key, record = create_key(engine, secret, name, scope)
    finally:
        engine.dispose()
    typer.echo(key)
    typer.echo(f"id={record.id} name={record.name} scope={record.scope} (shown once)", err=True)


@apikey_app.command("list")
def list_(database_url: DbOption = None) -> None:
    """Every key: id, name, visible prefix, scope, created, revoked."""
    from bullpen.store.apikeys import list_keys

    engine = _engine(database_url)
    try:
        records = list_keys(engine)
    finally:
        engine.dispose()
    for r in records:
        revoked = r.revoked_at.isoformat() if r.revoked_at else "-"
        typer.echo(f"{r.id}\t{r.name}\t{r.prefix}…\t{r.scope}\t{r.created_at:%Y-%m-%d}\t{revoked}")


@apikey_app.command()
def revoke(
    key_id: Annotated[int, typer.Argument(help="The id shown by `list`.")],
    database_url: DbOption = None,
) -> None:
    """Revoke a key (servers stop accepting it within their key-cache TTL)."""
    from bullpen.store.apikeys import revoke_key

    engine = _engine(database_url)
    try:
        done = revoke_key(engine, key_id)
    finally:
        engine.dispose()
    if not done:
        typer.secho(f"error: no active key with id {key_id}", err=True, fg="red")
        raise typer.Exit(code=1)
    typer.echo(f"revoked {key_id}")


LOCAL_NAME = "local-admin"


@apikey_app.command()
def local(
    file: Annotated[
        Path, typer.Option(help="Where the key is kept (mode 600); read again on the next run.")
    ] = Path("var/local-admin.key"),
    database_url: DbOption = None,
) -> None:
    """The one admin key of a local deployment: the kept one while it still works, else a
    new one, with every earlier local key revoked. Prints the key."""
    from bullpen.domain.apikeys import hash_key
    from bullpen.settings import get_settings
    from bullpen.store.apikeys import create_key, list_keys, lookup_key, revoke_key

    secret = get_settings().auth.api_key_secret.get_secret_value()
    engine = _engine(database_url)
    try:
        kept = file.read_text().strip() if file.is_file() else ""
        record = lookup_key(engine, hash_key(secret, kept)) if kept else None
        if record is None or not record.active or record.name != LOCAL_NAME:
            for old in list_keys(engine):
                if old.name == LOCAL_NAME and old.active:
                    revoke_key(engine, old.id)
            kept, record = create_key(engine, secret, LOCAL_NAME, "admin")
            file.parent.mkdir(parents=True, exist_ok=True)
            file.touch(mode=0o600)
            file.chmod(0o600)
            file.write_text(kept + "\n")
    finally:
        engine.dispose()
    typer.echo(kept)
    typer.echo(f"id={record.id} name={LOCAL_NAME} scope=admin, kept in {file}", err=True)
