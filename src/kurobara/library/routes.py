"""HTTP routes for the library (``/library``) and favorites (``/favorites``): parse, call one
service function, shape the response. Every call is scoped to the current user."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from kurobara.categories.links import CategoryNotFound
from kurobara.categories.routes import category_not_found
from kurobara.categories.schemas import BulkCategoryRequest, BulkCategoryResult
from kurobara.db.deps import SessionDep, read_only
from kurobara.library import backup, jobs, service, transfer
from kurobara.library.schemas import (
    MAX_IMPORT_ITEMS,
    BackupReport,
    BulkFavoriteRequest,
    BulkFavoriteResult,
    FavoriteCount,
    FavoritesImport,
    FavoriteStatus,
    ImportJobRead,
    ImportReport,
    LibraryBackup,
    LibraryEntryChanges,
    LibraryEntryRead,
    LibraryQuery,
    ListQuery,
)
from kurobara.reading.progress import ReadingSummary
from kurobara.users.deps import CurrentUser
from kurobara.validation import unprocessable

TOTAL_HEADER = "X-Total-Count"


async def library_errors() -> AsyncIterator[None]:
    """Turn the service's errors into HTTP answers in one place."""
    try:
        yield
    except service.MangaNotFound as exc:
        if len(exc.manga_ids) == 1:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Manga not found") from exc
        raise _unknown_manga(exc) from exc
    except service.EntryNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except CategoryNotFound as exc:
        raise category_not_found(exc) from exc


def _unknown_manga(exc: service.MangaNotFound) -> HTTPException:
    detail = {"message": "Unknown manga", "unknown_manga_ids": [str(i) for i in exc.manga_ids]}
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)


library_router = APIRouter(
    prefix="/library", tags=["library"], dependencies=[Depends(library_errors)]
)
favorites_router = APIRouter(
    prefix="/favorites", tags=["favorites"], dependencies=[Depends(library_errors)]
)


async def _list(
    db_session: SessionDep, user_id: uuid.UUID, query: ListQuery, response: Response, **kw: Any
) -> list[Any]:
    page = await service.list_entries(
        db_session=db_session,
        user_id=user_id,
        search=query.search or None,
        sort_by=query.sort_by,
        sort_order=query.sort_order,
        page=query.page,
        limit=query.limit,
        has_unread=query.has_unread,
        category_id=query.category_id,
        **kw,
    )
    response.headers[TOTAL_HEADER] = str(page.total)
    return [_with_reading(entry, page.reading.get(entry.manga_id)) for entry in page.items]


def _with_reading(entry: Any, summary: ReadingSummary | None) -> LibraryEntryRead:
    """An entry as the API shows it, with its manga's reading summary."""
    shaped = LibraryEntryRead.model_validate(entry)
    if summary is None:
        return shaped
    return shaped.model_copy(update=asdict(summary))


def get_import_worker(request: Request) -> jobs.ImportWorker:
    worker: jobs.ImportWorker = request.app.state.import_worker
    return worker


ImportWorkerDep = Annotated[jobs.ImportWorker, Depends(get_import_worker)]


def _attachment(kind: str, extension: str) -> dict[str, str]:
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return {"Content-Disposition": f'attachment; filename="kurobara-{kind}-{stamp}.{extension}"'}


# --- /library: fixed paths first, so that /{manga_id} never captures them ----------------------


@library_router.get(
    "/export",
    response_class=Response,
    responses={200: {"description": "The backup file", "model": LibraryBackup}},
)
async def export_library(user: CurrentUser, db_session: SessionDep) -> Response:
    """Download the whole library: entries, favorites, categories, ratings, notes, custom
    titles and read chapters, as JSON that ``POST /library/import`` takes back."""
    backup_file = await backup.export_library(db_session=db_session, user_id=user.id)
    return Response(
        backup_file.model_dump_json(),
        media_type="application/json",
        headers=_attachment("library", "json"),
    )


@library_router.post("/import", response_model=BackupReport)
async def import_library(
    payload: LibraryBackup,
    worker: ImportWorkerDep,
    user: CurrentUser,
    db_session: SessionDep,
    dry_run: bool = False,
) -> BackupReport:
    """Import a library backup; with ``dry_run=true`` only report what it would do (nothing is
    written and no provider is asked)."""
    return await backup.import_library(
        db_session=db_session,
        db=worker.db,
        registry=worker.registry,
        user_id=user.id,
        backup=payload,
        dry_run=dry_run,
        per_provider=worker.settings.favorites_import_concurrency,
    )


@library_router.get("/", response_model=list[LibraryEntryRead])
@read_only
async def list_library(
    query: Annotated[LibraryQuery, Query()],
    response: Response,
    user: CurrentUser,
    db_session: SessionDep,
) -> list[Any]:
    """The user's library, newest change first by default; the total is in ``X-Total-Count``."""
    return await _list(db_session, user.id, query, response, is_favorite=query.is_favorite)


@library_router.patch("/bulk", response_model=BulkCategoryResult)
async def bulk_assign_categories(
    payload: BulkCategoryRequest, user: CurrentUser, db_session: SessionDep
) -> BulkCategoryResult:
    """Put up to 500 entries on categories at once (``move``, ``add`` or ``remove``), all or
    nothing; a manga not in the library or a category not the caller's is a 404 naming it."""
    updated = await service.bulk_assign_categories(
        db_session=db_session,
        user_id=user.id,
        manga_ids=payload.manga_ids,
        category_ids=payload.category_ids,
        mode=payload.mode,
    )
    return BulkCategoryResult(
        updated=updated,
        mode=payload.mode,
        manga_ids=list(dict.fromkeys(payload.manga_ids)),
        category_ids=payload.category_ids,
    )


@library_router.get("/{manga_id}", response_model=LibraryEntryRead)
@read_only
async def get_library_entry(manga_id: uuid.UUID, user: CurrentUser, db_session: SessionDep) -> Any:
    entry = await service.get_entry(db_session=db_session, user_id=user.id, manga_id=manga_id)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="This manga is not in your library")
    summaries = await service.reading_summaries(
        db_session=db_session, user_id=user.id, entries=[entry]
    )
    return _with_reading(entry, summaries.get(entry.manga_id))


@library_router.post("/{manga_id}", response_model=LibraryEntryRead)
async def add_to_library(
    manga_id: uuid.UUID,
    user: CurrentUser,
    db_session: SessionDep,
    payload: LibraryEntryChanges | None = None,
) -> Any:
    """Add a manga (idempotent); fields sent in the body are set on the entry."""
    changes = payload.changes() if payload else {}
    return await service.add_entry(
        db_session=db_session, user_id=user.id, manga_id=manga_id, changes=changes
    )


@library_router.patch("/{manga_id}", response_model=LibraryEntryRead)
async def edit_library_entry(
    manga_id: uuid.UUID, payload: LibraryEntryChanges, user: CurrentUser, db_session: SessionDep
) -> Any:
    return await service.update_entry(
        db_session=db_session, user_id=user.id, manga_id=manga_id, changes=payload.changes()
    )


@library_router.delete("/{manga_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_from_library(
    manga_id: uuid.UUID, user: CurrentUser, db_session: SessionDep
) -> None:
    await service.remove_entry(db_session=db_session, user_id=user.id, manga_id=manga_id)


# --- /favorites: fixed paths first, so that /{manga_id} never captures them -------------------


@favorites_router.get("/", response_model=list[LibraryEntryRead])
@read_only
async def list_favorites(
    query: Annotated[ListQuery, Query()],
    response: Response,
    user: CurrentUser,
    db_session: SessionDep,
) -> list[Any]:
    """The user's favorites with their manga; the total is in ``X-Total-Count``."""
    return await _list(db_session, user.id, query, response, is_favorite=True)


@favorites_router.get("/count", response_model=FavoriteCount)
@read_only
async def count_favorites(user: CurrentUser, db_session: SessionDep) -> FavoriteCount:
    count = await service.count_favorites(db_session=db_session, user_id=user.id)
    return FavoriteCount(count=count)


@favorites_router.patch("/bulk", response_model=BulkFavoriteResult)
async def bulk_update_favorites(
    payload: BulkFavoriteRequest, user: CurrentUser, db_session: SessionDep
) -> BulkFavoriteResult:
    """Favorite or unfavorite up to 500 manga at once, all or nothing; an unknown id is a 404
    that lists every unknown id, even when there is only one."""
    try:
        updated = await service.bulk_set_favorite(
            db_session=db_session,
            user_id=user.id,
            manga_ids=payload.manga_ids,
            is_favorite=payload.is_favorite,
        )
    except service.MangaNotFound as exc:
        raise _unknown_manga(exc) from exc
    return BulkFavoriteResult(
        updated=updated,
        is_favorite=payload.is_favorite,
        manga_ids=list(dict.fromkeys(payload.manga_ids)),
    )


@favorites_router.get(
    "/export",
    response_class=Response,
    responses={
        200: {
            "description": "The favorites file, as an attachment",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def export_favorites(
    user: CurrentUser,
    db_session: SessionDep,
    export_format: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response:
    """Download the favorites: JSON or CSV, both re-importable."""
    export = await transfer.export_favorites(db_session=db_session, user_id=user.id)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    filename = f"kurobara-favorites-{stamp}.{export_format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if export_format == "csv":
        return Response(transfer.export_csv(export), media_type="text/csv", headers=headers)
    return Response(export.model_dump_json(), media_type="application/json", headers=headers)


JOB_PATH = "/api/v1/favorites/import/jobs/{job_id}"


def _job_read(view: jobs.JobView) -> ImportJobRead:
    job = view.job
    return ImportJobRead(
        job_id=job.id,
        status=job.status,
        total=job.total,
        processed=job.processed,
        progress=job.processed / job.total if job.total else 1.0,
        imported=job.imported,
        already_present=job.already_present,
        failed=job.failed,
        items=view.items,
        created_at=job.created_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
    )


@favorites_router.post(
    "/import",
    response_model=ImportReport | ImportJobRead,
    responses={202: {"model": ImportJobRead, "description": "queued as a background job"}},
)
async def import_favorites(
    payload: FavoritesImport,
    worker: ImportWorkerDep,
    user: CurrentUser,
    db_session: SessionDep,
    response: Response,
    background: bool = False,
) -> ImportReport | ImportJobRead:
    """Favorite every manga of a JSON export. With few manga to fetch from providers the
    answer is the report (200); otherwise, or with ``background=true``, a job (202) whose
    progress and report ``GET /favorites/import/jobs/{job_id}`` shows."""
    result = await jobs.start_import(
        db_session=db_session,
        worker=worker,
        user_id=user.id,
        items=payload.items,
        background=background,
    )
    if isinstance(result, ImportReport):
        return result
    response.status_code = status.HTTP_202_ACCEPTED
    response.headers["Location"] = JOB_PATH.format(job_id=result.job.id)
    return _job_read(result)


def _refused_csv(kind: str, message: str) -> HTTPException:
    """A refused CSV file as the 422 the OpenAPI document describes: a list of errors."""
    return unprocessable(kind, ["body"], [(message, None)])


@favorites_router.post(
    "/import/csv",
    response_model=ImportReport | ImportJobRead,
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def import_favorites_csv(
    request: Request,
    worker: ImportWorkerDep,
    user: CurrentUser,
    db_session: SessionDep,
    response: Response,
    background: bool = False,
) -> ImportReport | ImportJobRead:
    """Favorite every row of a CSV export (``GET /favorites/export?format=csv``), like the
    JSON import; a file that is not such a CSV is a 422 saying which line is wrong."""
    try:
        items = transfer.parse_csv((await request.body()).decode("utf-8-sig"))
    except (UnicodeDecodeError, transfer.CsvRefused) as exc:
        reason = "the file is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise _refused_csv("not_a_favorites_csv", f"Not a favorites CSV: {reason}.") from exc
    if len(items) > MAX_IMPORT_ITEMS:
        raise _refused_csv(
            "too_many_rows", f"Not imported: at most {MAX_IMPORT_ITEMS} rows per file."
        )
    return await import_favorites(
        FavoritesImport(items=items), worker, user, db_session, response, background
    )


@favorites_router.get("/import/jobs/{job_id}", response_model=ImportJobRead)
async def get_import_job(
    job_id: uuid.UUID, user: CurrentUser, db_session: SessionDep
) -> ImportJobRead:
    """A background import's state, progress and the outcome of each item decided so far."""
    view = await jobs.get_job(db_session=db_session, user_id=user.id, job_id=job_id)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No such import job")
    return _job_read(view)


@favorites_router.post("/{manga_id}", response_model=LibraryEntryRead)
async def add_favorite(manga_id: uuid.UUID, user: CurrentUser, db_session: SessionDep) -> Any:
    """Favorite a manga (idempotent); the library entry is created when there is none."""
    return await service.favorite(db_session=db_session, user_id=user.id, manga_id=manga_id)


@favorites_router.delete("/{manga_id}", response_model=FavoriteStatus)
async def remove_favorite(
    manga_id: uuid.UUID, user: CurrentUser, db_session: SessionDep
) -> FavoriteStatus:
    """Unfavorite (idempotent); the library entry stays with its notes and rating."""
    await service.unfavorite(db_session=db_session, user_id=user.id, manga_id=manga_id)
    return FavoriteStatus(manga_id=manga_id, is_favorite=False)


@favorites_router.get("/{manga_id}/status", response_model=FavoriteStatus)
@read_only
async def favorite_status(
    manga_id: uuid.UUID, user: CurrentUser, db_session: SessionDep
) -> FavoriteStatus:
    is_favorite = await service.favorite_status(
        db_session=db_session, user_id=user.id, manga_id=manga_id
    )
    return FavoriteStatus(manga_id=manga_id, is_favorite=is_favorite)
