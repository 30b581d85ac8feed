"""The ``kurobara`` command: serve, migrate, create-admin (and, from their domains, more)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from kurobara.config import Settings
from kurobara.users.defaults import DEFAULT_EMAIL_DOMAIN, default_admin_email

app = typer.Typer(no_args_is_help=True, help="Kurobara, the self-hosted manga server.")
console = Console()


@app.callback()
def database_options(
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data directory (sets KUROBARA_DATA_DIR for this command)"),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="SQLAlchemy async URL (sets KUROBARA_DATABASE_URL for this command)"),
    ] = None,
) -> None:
    """Options before the command name, for every command: `kurobara --data-dir D migrate`."""
    # Through the environment so that every command's Settings(), in any module, reads them.
    if data_dir is not None:
        os.environ["KUROBARA_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        os.environ["KUROBARA_DATABASE_URL"] = database_url
    _check_settings()


def _check_settings() -> None:
    """Stop with one line per invalid setting (``KUROBARA_PORT: …``) before any command runs,
    rather than with the traceback of the first ``Settings()`` that meets it."""
    from pydantic import ValidationError

    try:
        Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "KUROBARA_" + "_".join(map(str, error["loc"])).upper()
            console.print(f"[red]{name}: {error['msg']} (got {error['input']!r})[/red]")
        raise typer.Exit(2) from exc


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic announces each of its plugins at INFO on every start; keep its migration lines.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


async def _migrate(settings: Settings) -> str | None:
    from kurobara.db.migrate import current_revision, upgrade

    await upgrade(settings.resolved_database_url)
    return await current_revision(settings.resolved_database_url)


async def _prepare(settings: Settings) -> int:
    """What ``serve`` does before listening: migrate when behind, count the accounts."""
    from kurobara.db.migrate import upgrade_if_needed

    await upgrade_if_needed(settings.resolved_database_url)
    return await _user_count(settings)


async def _user_count(settings: Settings) -> int:
    from sqlalchemy import func, select

    from kurobara.db.engine import Database
    from kurobara.users.models import User

    db = Database(settings.resolved_database_url)
    try:
        async with db.session() as session:
            return await session.scalar(select(func.count()).select_from(User)) or 0
    finally:
        await db.dispose()


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the newest version."""
    settings = Settings()
    revision = asyncio.run(_migrate(settings))
    console.print(f"[green]Database at revision {revision}[/green] ({_safe_url(settings)})")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes (KUROBARA_WORKERS; default 1)"),
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Migrate the database, then serve the API and the web UI."""
    import uvicorn

    from kurobara.app import create_app

    configure_logging(log_level)
    # Through the environment, so that every worker process's Settings() reads them too.
    for name, value in {"HOST": host, "PORT": port, "WORKERS": workers}.items():
        if value is not None:
            os.environ[f"KUROBARA_{name}"] = str(value)
    settings = Settings()
    _announce(settings, asyncio.run(_prepare(settings)))
    # The app believes X-Forwarded-* only from KUROBARA_TRUSTED_PROXIES; uvicorn's own
    # handling would trust any loopback peer, and so any local client's header.
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level.lower(),
    }
    if settings.workers == 1:
        uvicorn.run(create_app(settings), proxy_headers=False, **options)
        return
    # Each worker builds its own app from the environment (``create_app()``); the database is
    # migrated once, above, before any of them starts.
    console.print(f"{settings.workers} worker processes")
    uvicorn.run(
        "kurobara.app:create_app",
        factory=True,
        workers=settings.workers,
        # How long a worker may take to answer the supervisor's health ping (it restarts one
        # that does not); a worker still importing on a loaded machine took over uvicorn's 5 s.
        timeout_worker_healthcheck=60,
        proxy_headers=False,
        **options,
    )


def _announce(settings: Settings, user_count: int) -> None:
    """Where the server listens, and how to log in."""
    url = f"http://{settings.host}:{settings.port}/"
    console.print(f"[bold]Kurobara[/bold] on [link={url}]{url}[/link]  ({_safe_url(settings)})")
    if user_count == 0:
        console.print(
            "No accounts yet: open the page and register; the first account becomes the admin."
        )
    else:
        console.print("Log in with your account; `kurobara create-admin` adds or resets an admin.")


@app.command()
def demo(
    port: Annotated[int | None, typer.Option(help="Port of the Kurobara server")] = None,
    hub_port: Annotated[
        int, typer.Option(help="Port of the fake sites' control panel (0: any free port)")
    ] = 8001,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where the demo keeps its database and providers file [default: DATA_DIR/demo]"
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Serve Kurobara with one local fake site of each provider kind, already configured."""
    import uvicorn

    from kurobara.app import create_app
    from kurobara.providers.fakes.demo import demo_settings, start_hub, write_providers_file

    configure_logging(log_level)
    base = Settings()
    directory = data_dir or base.data_dir / "demo"
    try:
        hub = start_hub(port=hub_port)
    except OSError as exc:
        console.print(f"[red]Cannot start the fake sites on port {hub_port}: {exc}[/red]")
        raise typer.Exit(1) from exc
    try:
        overrides = {
            "data_dir": directory,
            "providers_file": write_providers_file(directory, hub.sites.values()),
            "builtin_providers": False,  # only the local fake sites, never the real ones
            **demo_settings(),
            **({"port": port} if port is not None else {}),
        }
        settings = Settings(**overrides)  # type: ignore[arg-type]
        _announce(settings, asyncio.run(_prepare(settings)))
        console.print(f"Fake provider sites, and their fault switches: [link]{hub.url}/[/link]")
        for site in hub.sites.values():
            console.print(f"  {site.kind:<9} {site.name:<15} {site.url}")
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=log_level,
            proxy_headers=False,
        )
    finally:
        hub.stop()


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    email: Annotated[
        str | None,
        typer.Option(help=f"Contact address [default: USERNAME@{DEFAULT_EMAIL_DOMAIN}]"),
    ] = None,
) -> None:
    """Create a superuser, or promote an existing user and set their password.

    With --username and --password given nothing is asked, so it runs without a terminal."""
    from pydantic import ValidationError

    from kurobara.users.schemas import UserCreate

    email = email or default_admin_email(username)
    try:
        UserCreate(username=username, email=email, password=password)
    except ValidationError as exc:
        for error in exc.errors():
            console.print(f"[red]{'.'.join(map(str, error['loc']))}: {error['msg']}[/red]")
        raise typer.Exit(2) from exc
    settings = Settings()
    created = asyncio.run(_ensure_admin(settings, username, password, email))
    verb = "Created" if created else "Promoted"
    console.print(f"[green]{verb} admin {username}[/green] in {_safe_url(settings)}")


async def _ensure_admin(
    settings: Settings, username: str, password: str, email: str | None
) -> bool:
    from kurobara.db.engine import Database
    from kurobara.users import service as user_service
    from kurobara.users.security import configure_password_hashing

    configure_password_hashing(settings)
    await _migrate(settings)
    db = Database(settings.resolved_database_url)
    try:
        async with db.session() as session:
            _, created = await user_service.ensure_admin(
                db_session=session, username=username, password=password, email=email
            )
            return created
    finally:
        await db.dispose()


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def _add_monitoring_commands() -> None:
    from kurobara.monitoring.commands import providers_app

    app.add_typer(providers_app, name="providers")


_add_monitoring_commands()


def _add_library_commands() -> None:
    from kurobara.updates.commands import library_app

    app.add_typer(library_app, name="library")


_add_library_commands()


@app.command("backup")
def backup_command(
    output: Annotated[
        Path | None, typer.Option(help="directory for backups (default: DATA_DIR/backups)")
    ] = None,
    keep: Annotated[int, typer.Option(min=0, help="keep the newest N backups (0: all)")] = 7,
) -> None:
    """Back up the whole instance (SQLite, online: the server may keep running).

    Run it from cron for scheduled backups, e.g. daily: 0 3 * * * kurobara backup --keep 14
    """
    from datetime import UTC, datetime

    from kurobara.db import backup as db_backup

    settings = Settings()
    directory = output or settings.data_dir / "backups"
    directory.mkdir(parents=True, exist_ok=True)
    try:
        made, pruned = db_backup.backup(
            settings.resolved_database_url, directory, datetime.now(UTC), keep
        )
    except db_backup.BackupError as exc:
        console.print(f"[red]Backup not made:[/red] {exc}.")
        raise typer.Exit(2) from exc
    console.print(f"Backed up {_safe_url(settings)} to {made}")
    for path in pruned:
        console.print(f"Removed old backup {path.name} (keeping {keep})")
    for folder, holds, count in db_backup.files_not_in_backup(settings.data_dir):
        console.print(
            f"Not in the backup: {folder} ({holds}, {count} files); copy it beside the backup "
            "(e.g. rsync -a) to keep them"
        )


@app.command("restore")
def restore_command(
    backup_file: Annotated[Path, typer.Argument(help="a file made by kurobara backup")],
    force: Annotated[bool, typer.Option(help="replace an existing database")] = False,
) -> None:
    """Restore a backup into this data directory (meant for an empty one; stop the server)."""
    from kurobara.db import backup as db_backup

    settings = Settings()
    try:
        target = db_backup.restore(backup_file, settings.resolved_database_url, force=force)
    except db_backup.BackupError as exc:
        console.print(f"[red]Not restored:[/red] {exc}.")
        raise typer.Exit(2) from exc
    console.print(f"Restored {backup_file} into {target}; run kurobara migrate if it is older")
    for name, holds in db_backup.FILE_FOLDERS.items():
        if not (settings.data_dir / name).is_dir():
            console.print(
                f"The {holds} are files, not in the backup: if the old instance had any, copy "
                f"its data directory's {name}/ folder to {settings.data_dir / name}"
            )


@app.command()
def monitor(
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Run the provider monitor alone, without the web server.

    Pair it with web replicas started with KUROBARA_MONITOR_ENABLED=false.
    """
    from kurobara.monitoring.commands import run_monitor

    configure_logging(log_level)
    asyncio.run(run_monitor(Settings()))


def main() -> None:
    app()
