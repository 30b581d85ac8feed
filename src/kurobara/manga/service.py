"""Catalog logic: import a manga from a provider and read it back (its chapters and pages are
``kurobara.reading``'s).

Errors a caller maps::

    MangaNotFound        no manga with that id in the catalog
    NoUsableSource       none of the manga's sources has a registered, enabled provider
    UnknownProvider      (from the registry) the provider id is not registered
    ProviderError        (from the provider) the site failed; ``UnknownManga`` when it said the
                         manga or chapter does not exist

Provider calls never run inside a database transaction: the session's transaction is ended
(committed) before the network call, and a short one records the result afterwards.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.manga.models import Manga, MangaSource
from kurobara.providers.base import MangaDetails, Provider
from kurobara.providers.registry import ProviderRegistry


class MangaNotFound(LookupError):
    def __init__(self, manga_id: uuid.UUID) -> None:
        super().__init__(f"manga {manga_id} not found")
        self.manga_id = manga_id


class NoUsableSource(LookupError):
    def __init__(self, manga_id: uuid.UUID) -> None:
        super().__init__(f"none of the providers of manga {manga_id} is configured and enabled")
        self.manga_id = manga_id


async def _end_transaction(db_session: AsyncSession) -> None:
    """Close the read transaction before talking to a site (committing keeps loaded objects
    usable; a rollback would expire them)."""
    if db_session.in_transaction():
        await db_session.commit()


async def get_manga(*, db_session: AsyncSession, manga_id: uuid.UUID) -> Manga | None:
    return await db_session.get(Manga, manga_id)


async def get_by_source(
    *, db_session: AsyncSession, provider_id: str, external_id: str
) -> Manga | None:
    return await db_session.scalar(
        select(Manga)
        .join(MangaSource)
        .where(MangaSource.provider_id == provider_id, MangaSource.external_id == external_id)
    )


def _clean(value: str | None, max_length: int) -> str | None:
    """Text from a site as a column can hold it: no NUL (PostgreSQL refuses it), not too long."""
    if value is None:
        return None
    value = value.replace("\x00", "").strip()
    return value[:max_length] or None


def _manga_from_details(provider: Provider, details: MangaDetails) -> Manga:
    title = _clean(details.title, 500) or details.external_id
    cover = details.cover_url if details.cover_url and len(details.cover_url) <= 1000 else None
    url = details.url if details.url and len(details.url) <= 1000 else None
    return Manga(
        title=title,
        title_key=title.lower(),
        alt_titles=[t for t in (_clean(alt, 500) for alt in details.alt_titles) if t],
        description=_clean(details.description, 100_000),
        cover_image=cover,
        status=_clean(details.status, 30),
        year=details.year,
        genres=[g for g in (_clean(genre, 100) for genre in details.genres) if g],
        nsfw=details.nsfw or provider.definition.nsfw,
        sources=[
            MangaSource(
                provider_id=provider.id,
                external_id=_clean(details.external_id, 255) or details.external_id,
                url=url,
            )
        ],
    )


async def import_source(
    *, db_session: AsyncSession, registry: ProviderRegistry, provider_id: str, external_id: str
) -> tuple[Manga, bool]:
    """The manga of ``provider_id``/``external_id``, imported from the provider unless the
    catalog has it already; ``(manga, created)``.

    Two imports of one source at once create one manga: the unique (provider, external id)
    constraint stops the second insert, which then reads the first one's row. Commits the
    session's transaction (before the provider call and after the insert)."""
    provider = registry.get(provider_id)
    existing = await get_by_source(
        db_session=db_session, provider_id=provider_id, external_id=external_id
    )
    if existing is not None:
        return existing, False
    await _end_transaction(db_session)
    details = await provider.get_manga_details(external_id)
    manga = _manga_from_details(provider, details)
    # The site's own id for it (a canonical form of the one asked for).
    stored_id = manga.sources[0].external_id
    db_session.add(manga)
    try:
        await db_session.commit()
    except IntegrityError:
        await db_session.rollback()
        existing = await get_by_source(
            db_session=db_session, provider_id=provider.id, external_id=stored_id
        )
        if existing is None:
            raise
        return existing, False
    return manga, True


async def import_from_provider(
    *, db_session: AsyncSession, registry: ProviderRegistry, provider_id: str, external_id: str
) -> Manga:
    """Import (or find) the manga of one provider source; see ``import_source``."""
    manga, _ = await import_source(
        db_session=db_session,
        registry=registry,
        provider_id=provider_id,
        external_id=external_id,
    )
    return manga
