"""``kurobara providers list|check`` and ``kurobara monitor``: the same service functions the
API uses, on a database and registry opened for the command."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.monitoring import identity, service
from kurobara.monitoring.checker import Checker, CheckReport
from kurobara.monitoring.clock import SystemClock
from kurobara.monitoring.jobs import Monitor
from kurobara.providers.http import HttpClient
from kurobara.providers.registry import ProviderRegistry
from kurobara.providers.wording import in_words

providers_app = typer.Typer(no_args_is_help=True, help="Provider health: list and check.")

STATUS_STYLE = {"active": "green", "down": "red", "testing": "yellow", "unknown": "dim"}


@dataclass
class Context:
    settings: Settings
    db: Database
    http: HttpClient
    registry: ProviderRegistry


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Context]:
    from kurobara.db.migrate import upgrade

    await upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    http = HttpClient(user_agent=settings.http_user_agent, timeout=settings.check_timeout)
    try:
        registry = ProviderRegistry.from_settings(settings, http)
        async with db.session() as session:
            await service.sync_registry(db_session=session, registry=registry, settings=settings)
        yield Context(settings=settings, db=db, http=http, registry=registry)
    finally:
        await http.aclose()
        await db.dispose()


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = int((now - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


# Every column fits from this terminal width on; below it (an 80-column terminal) the table keeps
# what tells whether a provider works and the errors follow it as lines, where they can wrap.
WIDE_TABLE_COLUMNS = 120
WIDE_COLUMNS = ("id", "name", "status", "enabled", "uptime 24h", "7d", "30d", "last check", "ms",
                "error")  # fmt: skip
NARROW_COLUMNS = ("id", "status", "on", "24h", "7d", "last check", "ms")


def provider_columns(width: int) -> tuple[str, ...]:
    return WIDE_COLUMNS if width >= WIDE_TABLE_COLUMNS else NARROW_COLUMNS


def _error(view: service.ProviderView) -> str:
    """``http_status at chapters: HTTP 500 ...``; empty when the last check passed."""
    if not view.error_kind:
        return ""
    stage = f" at {view.stage}" if view.stage else ""
    return f"{view.error_kind}{stage}: {view.error_message}"


def _cells(view: service.ProviderView, now: datetime) -> dict[str, str]:
    style = "dim" if not view.is_enabled else STATUS_STYLE.get(view.status, "")
    enabled = "yes" if view.is_enabled else "[dim]no[/dim]"
    return {
        "id": view.provider_id,
        "name": view.provider_name,
        "status": f"[{style}]{view.status}[/{style}]",
        "enabled": enabled,
        "on": enabled,
        "uptime 24h": _percent(view.uptime_24h),
        "24h": _percent(view.uptime_24h),
        "7d": _percent(view.uptime_7d),
        "30d": _percent(view.uptime_30d),
        "last check": _ago(view.last_check, now),
        "ms": str(view.response_time) if view.response_time is not None else "—",
        "error": _error(view),
    }


def status_table(views: list[service.ProviderView], now: datetime, width: int = 200) -> Table:
    columns = provider_columns(width)
    table = Table(title="Providers")
    for column in columns:
        table.add_column(
            column, justify="right" if column == "ms" else "left", no_wrap=column != "error"
        )
    for view in views:
        cells = _cells(view, now)
        table.add_row(*(cells[column] for column in columns))
    return table


def error_lines(views: list[service.ProviderView], width: int) -> list[str]:
    """The last errors, one line each, when the table is too narrow to hold them."""
    if "error" in provider_columns(width):
        return []
    lines = []
    for view in views:
        if view.error_kind:
            words = in_words(view.error_kind, view.error_message, view.http_status)
            lines += [f"{view.provider_id}: {words}", f"  {_error(view)}"]
    return lines


async def _list(settings: Settings) -> None:
    async with opened(settings) as ctx, ctx.db.session() as session:
        now = SystemClock().now()
        views = await service.list_providers(
            db_session=session, registry=ctx.registry, settings=settings, now=now
        )
    console = Console()
    console.print(status_table(views, now, console.width))
    for line in error_lines(views, console.width):
        console.print(line, markup=False, highlight=False)


@providers_app.command("list")
def list_command() -> None:
    """Every provider with its status, uptime and last check."""
    asyncio.run(_list(Settings()))


async def _check(settings: Settings, ids: list[str], everything: bool) -> list[CheckReport]:
    async with opened(settings) as ctx:
        targets = ctx.registry.ids() if everything else ids
        unknown = [pid for pid in targets if pid not in ctx.registry]
        if unknown:
            raise typer.BadParameter(f"unknown provider(s): {', '.join(unknown)}")
        checker = Checker(db=ctx.db, registry=ctx.registry, settings=settings)
        console = Console()
        slots = asyncio.Semaphore(settings.check_concurrency)
        reports: list[CheckReport] = []
        with Progress(
            TextColumn("[bold]checking"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
        ) as progress:  # fmt: skip
            task = progress.add_task("", total=len(targets))

            async def one(provider_id: str) -> None:
                async with slots:
                    progress.update(task, description=provider_id)
                    reports.append(await checker.check(provider_id, trigger="manual"))
                    progress.advance(task)

            try:
                await asyncio.gather(*(one(pid) for pid in targets))
            finally:
                await checker.aclose()
        async with ctx.db.session() as session:
            views = await service.list_providers(
                db_session=session,
                registry=ctx.registry,
                settings=settings,
                now=SystemClock().now(),
            )
    console.print(status_table([v for v in views if v.provider_id in targets], SystemClock().now()))
    return reports


@providers_app.command("check")
def check_command(
    provider_ids: Annotated[list[str] | None, typer.Argument(help="Provider ids")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Check every provider")] = False,
) -> None:
    """Check providers now and record the results (as POST /providers/{id}/test does)."""
    if not provider_ids and not everything:
        raise typer.BadParameter("give provider ids or --all")
    reports = asyncio.run(_check(Settings(), provider_ids or [], everything))
    console = Console()
    failed = sum(not r.result.ok for r in reports)
    if failed:
        console.print(f"[red]{failed} of {len(reports)} checks failed[/red]")
        raise typer.Exit(1)
    console.print(f"[green]{len(reports)} checks passed[/green]")


async def run_monitor(settings: Settings) -> None:
    """Run the monitor alone until SIGINT/SIGTERM (a dedicated monitoring process)."""
    async with opened(settings) as ctx:
        replica = identity.replica_id(settings)
        checker = Checker(
            db=ctx.db,
            registry=ctx.registry,
            settings=settings,
            owner=identity.process_owner(replica, "monitor"),
        )
        await checker.reclaim_dead_leases(identity.lineage(replica, "monitor"))
        monitor = Monitor(
            db=ctx.db, registry=ctx.registry, http=ctx.http, settings=settings, checker=checker
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await monitor.start()
        # Library updates run beside the monitor (and listen to its checks for recoveries).
        updater = None
        if settings.library_updates_enabled:
            from kurobara.updates.jobs import LibraryUpdater

            updater = LibraryUpdater(db=ctx.db, registry=ctx.registry, settings=settings)
            monitor.checker.add_listener(updater.on_check)
            await updater.start()
        Console().print(
            f"[bold]Kurobara monitor[/bold] watching {len(ctx.registry)} providers "
            f"(concurrency {settings.check_concurrency}); Ctrl+C stops it"
        )
        try:
            await stop.wait()
        finally:
            if updater is not None:
                await updater.stop()
            await monitor.stop()
