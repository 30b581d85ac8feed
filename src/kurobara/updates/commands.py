"""``kurobara library update [--all | --user NAME]``: start (or join) a run and work it in the
foreground with the same updater the server runs, showing progress, then the outcome table."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kurobara.config import Settings
from kurobara.monitoring.clock import SystemClock
from kurobara.monitoring.commands import opened
from kurobara.updates import service
from kurobara.updates.jobs import LibraryUpdater
from kurobara.users import service as user_service

library_app = typer.Typer(no_args_is_help=True, help="Library: update chapter lists.")

OUTCOME_STYLE = {"new_chapters": "green", "no_change": "dim", "skipped": "yellow", "failed": "red"}


def outcome_table(view: service.RunView) -> Table:
    table = Table(title=f"Update run {view.run.id} ({view.status}, {view.done}/{view.total})")
    for column in ("manga", "provider", "outcome", "new", "why"):
        table.add_column(column)
    for o in view.outcomes:
        word = o.outcome or "pending"
        why = o.reason or (f"{o.error_kind}: {o.error_message}" if o.error_kind else "")
        table.add_row(
            o.manga_title,
            o.provider_id,
            f"[{OUTCOME_STYLE.get(word, 'white')}]{word}[/]",
            str(o.new_chapters or ""),
            why,
        )
    return table


def summary(view: service.RunView) -> str:
    counts = Counter(o.outcome for o in view.outcomes)
    new = sum(o.new_chapters for o in view.outcomes)
    return (
        f"{new} new chapters in {counts['new_chapters']} series · {counts['no_change']} unchanged"
        f" · {counts['skipped']} skipped · {counts['failed']} failed"
    )


async def _update(settings: Settings, *, everything: bool, username: str | None) -> None:
    async with opened(settings) as ctx:
        clock = SystemClock()
        async with ctx.db.session() as session:
            user_id: uuid.UUID | None = None
            if username is not None:
                user = await user_service.get_by_username(db_session=session, username=username)
                if user is None:
                    raise typer.BadParameter(f"no user {username!r}")
                user_id = user.id
            schedule = await service.get_schedule(
                db_session=session, settings=settings, now=clock.now()
            )
            started = await service.start_run(
                db_session=session,
                trigger="manual",
                scope="all" if everything else "user",
                user_id=user_id,
                now=clock.now(),
                skip_completed=schedule.skip_completed,
            )
        assert started is not None
        run_id = started.run.id
        updater = LibraryUpdater(db=ctx.db, registry=ctx.registry, settings=settings, clock=clock)
        console = Console()
        with Progress(
            TextColumn("[bold]updating"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console,
        ) as progress:  # fmt: skip
            task = progress.add_task("", total=started.run.total)
            try:
                while True:
                    ran = await updater.step()
                    async with ctx.db.session() as session:
                        view = await service.get_run(db_session=session, run_id=run_id, user=None)
                    progress.update(task, completed=view.done, total=view.total)
                    if view.status == "done":
                        break
                    if ran == 0:
                        await asyncio.sleep(1.0)  # paused after a 429, or another replica's lease
            finally:
                await updater.stop()
    console.print(outcome_table(view))
    console.print(summary(view))


@library_app.command("update")
def update_command(
    everything: Annotated[bool, typer.Option("--all", help="Everyone's library")] = False,
    user: Annotated[str | None, typer.Option("--user", help="This user's library")] = None,
) -> None:
    """Update chapter lists now (joins a run already going) and print each manga's outcome."""
    if everything == (user is not None):
        raise typer.BadParameter("give --all or --user NAME")
    asyncio.run(_update(Settings(), everything=everything, username=user))
