"""HTTP routes of failover: link and unlink a manga's sources, choose the one to read from,
match suggestions, and the migration proposals (list, accept one, accept the best for all)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from kurobara.db.deps import SessionDep
from kurobara.failover import proposals, service
from kurobara.failover.schemas import (
    AcceptBestRead,
    AcceptBestRequest,
    AcceptedRead,
    AcceptRequest,
    BatchFailure,
    CandidateRead,
    LinkRequest,
    MatchRead,
    MigrationRead,
    PreferredSourceRead,
    PreferredSourceRequest,
    ScoutReportRead,
)
from kurobara.images.links import cover_link
from kurobara.manga.models import Manga
from kurobara.manga.schemas import MangaRead
from kurobara.manga.service import MangaNotFound
from kurobara.monitoring.deps import ClockDep, SettingsDep
from kurobara.providers.deps import RegistryDep
from kurobara.providers.errors import ProviderError, UnknownManga
from kurobara.providers.registry import UnknownProvider
from kurobara.users.deps import AdminUser, CurrentUser


async def failover_errors() -> AsyncIterator[None]:
    """Turn the failover services' errors into HTTP answers."""
    try:
        yield
    except MangaNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Manga not found") from exc
    except (UnknownProvider, service.SourceNotLinked, proposals.NotInLibrary) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except proposals.CandidateNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except UnknownManga as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=exc.message) from exc
    except service.SourceLinkedElsewhere as exc:
        detail: dict[str, Any] = {"message": str(exc), "manga_id": str(exc.manga_id)}
        raise HTTPException(status.HTTP_409_CONFLICT, detail=detail) from exc
    except service.LastSource as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except ProviderError as exc:
        failure = {"kind": exc.kind, "message": exc.message, "http_status": exc.status_code}
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=failure) from exc


failover_router = APIRouter(tags=["failover"], dependencies=[Depends(failover_errors)])


async def _manga_read(db_session: SessionDep, manga_id: uuid.UUID) -> Manga:
    manga = await db_session.get(Manga, manga_id, populate_existing=True)
    if manga is None:
        raise MangaNotFound(manga_id)
    await db_session.refresh(manga, ["sources"])
    return manga


@failover_router.post(
    "/manga/{manga_id}/sources",
    response_model=MangaRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        status.HTTP_200_OK: {"description": "already a source of this manga"},
        status.HTTP_409_CONFLICT: {"description": "that listing is another manga's"},
        status.HTTP_502_BAD_GATEWAY: {"description": "the provider failed"},
    },
)
async def link_source(
    manga_id: uuid.UUID,
    payload: LinkRequest,
    response: Response,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    clock: ClockDep,
) -> Any:
    """Add another provider's listing of this series as a source (201; 200 when it already
    is one). The site is asked for it first; a listing that belongs to another manga is
    refused (409): two manga are never merged."""
    _, created = await service.link_source(
        db_session=db_session,
        registry=registry,
        manga_id=manga_id,
        provider_id=payload.provider_id,
        external_id=payload.external_id,
        clock=clock,
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return await _manga_read(db_session, manga_id)


@failover_router.delete(
    "/manga/{manga_id}/sources/{source_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def unlink_source(
    manga_id: uuid.UUID, source_id: uuid.UUID, admin: AdminUser, db_session: SessionDep
) -> None:
    """Remove a source (admins: the catalog is shared). Read marks on its chapters move to
    the same chapter numbers of the other sources; the last source cannot go (409)."""
    await service.unlink_source(db_session=db_session, manga_id=manga_id, source_id=source_id)


@failover_router.put("/manga/{manga_id}/preferred-source", response_model=PreferredSourceRead)
async def set_preferred_source(
    manga_id: uuid.UUID,
    payload: PreferredSourceRequest,
    user: CurrentUser,
    db_session: SessionDep,
    clock: ClockDep,
) -> PreferredSourceRead:
    """Choose the source you read this manga from; null forgets the choice."""
    chosen = await service.set_preferred_source(
        db_session=db_session,
        user_id=user.id,
        manga_id=manga_id,
        source_id=payload.source_id,
        now=clock.now(),
    )
    return PreferredSourceRead(manga_id=manga_id, source_id=chosen)


@failover_router.get("/manga/{manga_id}/matches", response_model=list[MatchRead])
async def list_matches(
    manga_id: uuid.UUID,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
) -> list[MatchRead]:
    """Listings of this series on the healthy providers it has no source on yet, best match
    first (``score`` 0..100 from titles, alt titles and year). Nothing is linked by this."""
    matches = await service.find_matches(
        db_session=db_session,
        registry=registry,
        manga_id=manga_id,
        timeout=settings.search_timeout,
    )
    return [
        MatchRead.model_validate(
            {
                **match.__dict__,
                "cover_url": cover_link(match.provider_id, match.cover_url, match.url),
            }
        )
        for match in matches
    ]


def _candidate(view: proposals.CandidateView) -> CandidateRead:
    c = view.candidate
    return CandidateRead(
        id=c.id,
        provider_id=c.provider_id,
        provider_name=view.provider_name,
        provider_status=view.provider_status,
        usable=view.usable,
        external_id=c.external_id,
        title=c.title,
        cover_url=cover_link(c.provider_id, c.cover_image, c.url),
        url=c.url,
        year=c.year,
        score=c.score,
        chapter_count=c.chapter_count,
        latest_chapter=c.latest_chapter,
        found_at=c.found_at,
        linked_manga_id=view.linked_manga_id,
    )


def migration_read(entry: proposals.MigrationEntry) -> MigrationRead:
    return MigrationRead(
        manga_id=entry.manga.id,
        title=entry.entry.custom_title or entry.manga.title,
        cover_url=entry.manga.cover_url,
        is_favorite=entry.entry.is_favorite,
        provider_id=entry.need.provider_id,
        provider_name=entry.provider_name,
        reason=entry.need.reason,
        since=entry.need.since,
        scanned_at=entry.need.scanned_at,
        candidates=[_candidate(c) for c in entry.candidates],
    )


@failover_router.get("/migrations", response_model=list[MigrationRead])
async def list_migrations(
    user: CurrentUser, db_session: SessionDep, registry: RegistryDep
) -> list[MigrationRead]:
    """Your library entries whose every source is on a dead provider (down longer than
    ``KUROBARA_MIGRATION_AFTER_HOURS``, switched off or removed), with candidate sources."""
    entries = await proposals.list_migrations(
        db_session=db_session, registry=registry, user_id=user.id
    )
    return [migration_read(entry) for entry in entries]


@failover_router.post("/migrations/{manga_id}/accept", response_model=AcceptedRead)
async def accept_migration(
    manga_id: uuid.UUID,
    payload: AcceptRequest,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    clock: ClockDep,
) -> Any:
    """Accept one candidate: it becomes a source of the same manga and the one you read
    from; favorite, categories, rating, notes and read chapters stay."""
    return await proposals.accept(
        db_session=db_session,
        registry=registry,
        user_id=user.id,
        manga_id=manga_id,
        candidate_id=payload.candidate_id,
        now=clock.now(),
    )


@failover_router.post("/migrations/accept-best", response_model=AcceptBestRead)
async def accept_best(
    payload: AcceptBestRequest,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    clock: ClockDep,
) -> AcceptBestRead:
    """Accept the best usable candidate of every entry whose best scores at least
    ``min_score``; ``left`` are the entries without one, ``failed`` those the site refused."""
    result = await proposals.accept_best(
        db_session=db_session,
        registry=registry,
        user_id=user.id,
        min_score=payload.min_score,
        manga_ids=payload.manga_ids,
        now=clock.now(),
    )
    return AcceptBestRead(
        accepted=[AcceptedRead.model_validate(a) for a in result.accepted],
        left=result.left,
        failed=[BatchFailure(manga_id=m, message=text) for m, text in result.failed],
    )


@failover_router.post("/migrations/scan", response_model=ScoutReportRead)
async def scan_now(request: Request, admin: AdminUser) -> Any:
    """Run one step of the migration scout now (admins): dead providers, needs, candidates,
    notices. The scout also runs every ``KUROBARA_MIGRATION_SCAN_SECONDS`` by itself."""
    return await request.app.state.scout.step()
