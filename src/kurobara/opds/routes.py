"""HTTP routes of the OPDS catalog under ``/opds``: parse, authenticate (``auth.py``), call one
service function, answer Atom XML. Errors answer as the API's do (``{"detail": ...}``), with
a 401 that asks for HTTP Basic so that an e-reader prompts for the account."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi import status as http
from fastapi.responses import FileResponse

from kurobara.categories.links import CategoryNotFound
from kurobara.config import Settings
from kurobara.db.deps import SessionDep
from kurobara.images.local import LocalStore
from kurobara.images.routes import image_response
from kurobara.images.service import ImageError
from kurobara.manga.service import MangaNotFound, NoUsableSource
from kurobara.opds import atom, feeds, service
from kurobara.opds.atom import Feed
from kurobara.opds.auth import CredentialCache, OpdsUser
from kurobara.opds.files import ChapterFiles, local_files
from kurobara.providers.errors import ProviderError, UnknownManga
from kurobara.reading.listing import ChapterNotFound
from kurobara.reading.service import ProviderSkipped


async def opds_errors() -> AsyncIterator[None]:
    try:
        yield
    except (MangaNotFound, ChapterNotFound, UnknownManga, CategoryNotFound) as exc:
        raise HTTPException(http.HTTP_404_NOT_FOUND, detail="Not found") from exc
    except (service.PageNotFound, service.FileNotFound) as exc:
        raise HTTPException(http.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except (NoUsableSource, ProviderSkipped) as exc:
        raise HTTPException(http.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from exc
    except ProviderError as exc:
        raise HTTPException(http.HTTP_502_BAD_GATEWAY, detail=exc.message) from exc
    except ImageError as exc:
        raise HTTPException(exc.status_code, detail=str(exc)) from exc


opds_router = APIRouter(prefix="/opds", tags=["opds"], dependencies=[Depends(opds_errors)])

_SIGN_IN: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or wrong credentials; `WWW-Authenticate: Basic` asks for them"},
    404: {"description": "Not a manga, chapter, page or category of the caller"},
    502: {"description": "The source failed and nothing stored answers"},
    503: {"description": "No source of the manga may be asked now"},
}


def _answers(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": what, "content": {media_type: {}}}, **_SIGN_IN}


_NAV = _answers(atom.NAVIGATION_TYPE, "An OPDS navigation feed (Atom XML)")
_ACQ = _answers(atom.ACQUISITION_TYPE, "An OPDS acquisition feed (Atom XML)")
_PAGE = _answers("image/*", "The page image, in the type the source gave")

PageQuery = Annotated[int, Query(ge=1, le=100_000, description="Page of the feed, from 1")]


def get_reader(request: Request) -> service.Reader:
    state = request.app.state
    settings: Settings = state.settings
    return service.Reader(
        registry=state.registry,
        images=state.images,
        files=state.opds_files,
        pages=state.opds_pages,
        local=LocalStore(settings.data_dir / "local"),
        max_age_seconds=settings.chapter_cache_seconds,
        clock=state.clock,
    )


ReaderDep = Annotated[service.Reader, Depends(get_reader)]


def _xml(feed: Feed, kind: str) -> Response:
    return Response(atom.render(feed), media_type=kind, headers={"Cache-Control": "no-store"})


def _nav(feed: Feed) -> Response:
    return _xml(feed, atom.NAVIGATION_TYPE)


def _acq(feed: Feed) -> Response:
    return _xml(feed, atom.ACQUISITION_TYPE)


@opds_router.get("", response_class=Response, responses=_NAV)
async def root(user: OpdsUser, db_session: SessionDep, reader: ReaderDep) -> Response:
    """The catalog's start: library, favorites, categories, recently updated, downloaded."""
    feed = await service.navigation_feed(db_session=db_session, user=user, now=reader.clock.now())
    return _nav(feed)


@opds_router.get("/library", response_class=Response, responses=_NAV)
async def library(
    user: OpdsUser, db_session: SessionDep, reader: ReaderDep, page: PageQuery = 1
) -> Response:
    """Every manga in the caller's library, by title."""
    return _nav(await service.library_feed(
        db_session=db_session, user_id=user.id, page=page, now=reader.clock.now()
    ))  # fmt: skip


@opds_router.get("/favorites", response_class=Response, responses=_NAV)
async def favorites(
    user: OpdsUser, db_session: SessionDep, reader: ReaderDep, page: PageQuery = 1
) -> Response:
    return _nav(await service.library_feed(
        db_session=db_session, user_id=user.id, page=page, now=reader.clock.now(), favorites=True
    ))  # fmt: skip


@opds_router.get("/categories", response_class=Response, responses=_NAV)
async def categories(user: OpdsUser, db_session: SessionDep, reader: ReaderDep) -> Response:
    return _nav(await service.categories_feed(
        db_session=db_session, user_id=user.id, now=reader.clock.now()
    ))  # fmt: skip


@opds_router.get("/categories/{category_id}", response_class=Response, responses=_NAV)
async def category(
    category_id: uuid.UUID,
    user: OpdsUser,
    db_session: SessionDep,
    reader: ReaderDep,
    page: PageQuery = 1,
) -> Response:
    return _nav(await service.library_feed(
        db_session=db_session, user_id=user.id, page=page, now=reader.clock.now(),
        category_id=category_id,
    ))  # fmt: skip


@opds_router.get("/recent", response_class=Response, responses=_ACQ)
async def recent(
    user: OpdsUser, db_session: SessionDep, reader: ReaderDep, page: PageQuery = 1
) -> Response:
    """New chapters in the caller's library, newest first (the Updates page's)."""
    return _acq(await service.recent_feed(
        db_session=db_session, user_id=user.id, page=page, now=reader.clock.now(),
        files=reader.files,
    ))  # fmt: skip


@opds_router.get("/downloaded", response_class=Response, responses=_ACQ)
async def downloaded(
    user: OpdsUser, db_session: SessionDep, reader: ReaderDep, page: PageQuery = 1
) -> Response:
    """Chapters this server holds as CBZ files, each downloadable."""
    return _acq(await service.downloaded_feed(
        db_session=db_session, user_id=user.id, page=page, now=reader.clock.now(),
        files=reader.files,
    ))  # fmt: skip


@opds_router.get(
    "/search.xml",
    response_class=Response,
    responses=_answers(atom.OPENSEARCH_TYPE, "The OpenSearch 1.1 description"),
)
async def search_description(request: Request, user: OpdsUser) -> Response:
    """The OpenSearch description of the catalog's search."""
    return Response(feeds.search_description(str(request.base_url)),
                    media_type=atom.OPENSEARCH_TYPE)  # fmt: skip


@opds_router.get("/search", response_class=Response, responses=_NAV)
async def search(
    user: OpdsUser,
    db_session: SessionDep,
    reader: ReaderDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Words of the title")],
    page: PageQuery = 1,
) -> Response:
    """Manga of the caller's library whose title (or custom title) contains ``q``."""
    return _nav(await service.library_feed(
        db_session=db_session, user_id=user.id, page=page, now=reader.clock.now(), search=q
    ))  # fmt: skip


@opds_router.get("/manga/{manga_id}", response_class=Response, responses=_ACQ)
async def manga(
    manga_id: uuid.UUID, user: OpdsUser, db_session: SessionDep, reader: ReaderDep,
    page: PageQuery = 1,
) -> Response:  # fmt: skip
    """A manga's chapters in reading order, each streamable page by page (OPDS-PSE)."""
    return _acq(await service.manga_feed(
        db_session=db_session, reader=reader, user_id=user.id, manga_id=manga_id, page=page,
        now=reader.clock.now(),
    ))  # fmt: skip


@opds_router.get("/manga/{manga_id}/chapters/{chapter_id}", response_class=Response, responses=_ACQ)
async def chapter(
    manga_id: uuid.UUID, chapter_id: uuid.UUID, user: OpdsUser, db_session: SessionDep,
    reader: ReaderDep,
) -> Response:  # fmt: skip
    """One chapter with its page count, for a chapter whose pages were never listed."""
    return _acq(await service.chapter_feed(
        db_session=db_session, reader=reader, user_id=user.id, manga_id=manga_id,
        chapter_id=chapter_id, now=reader.clock.now(),
    ))  # fmt: skip


@opds_router.get(
    "/manga/{manga_id}/chapters/{chapter_id}/pages/{number}",
    response_class=Response,
    responses=_PAGE,
)
async def page_image(
    manga_id: uuid.UUID,
    chapter_id: uuid.UUID,
    number: Annotated[int, Path(ge=0, le=100_000, description="Page number, from 0")],
    user: OpdsUser,
    db_session: SessionDep,
    reader: ReaderDep,
    width: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> Response:
    """One page image (OPDS-PSE ``pse:stream``). ``width`` (``{maxWidth}``) is accepted and
    pages come at the source's size: clients scale them to the screen."""
    served = await service.page_image(
        db_session=db_session, reader=reader, user_id=user.id, manga_id=manga_id,
        chapter_id=chapter_id, number=number,
    )  # fmt: skip
    return image_response(served, {"Cache-Control": "private, max-age=3600"})


@opds_router.get(
    "/manga/{manga_id}/chapters/{chapter_id}/file",
    response_class=Response,
    responses=_answers(atom.CBZ_TYPE, "The chapter as a CBZ"),
)
async def chapter_file(
    manga_id: uuid.UUID, chapter_id: uuid.UUID, user: OpdsUser, db_session: SessionDep,
    reader: ReaderDep,
) -> Response:  # fmt: skip
    """The chapter as a CBZ, where this server holds one."""
    path = await service.chapter_file(
        db_session=db_session, files=reader.files, manga_id=manga_id, chapter_id=chapter_id
    )
    return FileResponse(path, media_type=atom.CBZ_TYPE, filename=f"{chapter_id}.cbz")


def install(app: FastAPI) -> None:
    """Mount the catalog. What it keeps while running is opened by ``open_catalog`` in the
    app's lifespan, from that run's settings."""
    app.include_router(opds_router)


def open_catalog(state: Any, settings: Settings, files: ChapterFiles | None = None) -> None:
    """The catalog's per-run state: remembered credentials, page lists, and which chapters
    exist as files (``files``; default: the local archives under ``<data_dir>/local``)."""
    state.opds_credentials = CredentialCache()
    state.opds_pages = service.PageLists()
    state.opds_files = files or local_files(settings.data_dir / "local")
