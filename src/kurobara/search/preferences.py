"""A user's search preferences (NSFW shown or not, languages), read by every search and browse
list and written from Settings or ``PATCH /search/preferences``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.providers.base import Provider
from kurobara.search import rules
from kurobara.search.models import SearchPreferences


@dataclass(frozen=True)
class Preferences:
    show_nsfw: bool = False
    languages: tuple[str, ...] = ()

    def left_out(self, provider: Provider) -> str | None:
        definition = provider.definition
        return rules.left_out_reason(
            nsfw=definition.nsfw,
            language=definition.language,
            show_nsfw=self.show_nsfw,
            languages=self.languages,
        )


DEFAULTS = Preferences()


async def get_preferences(*, db_session: AsyncSession, user_id: uuid.UUID) -> Preferences:
    """The user's preferences; the defaults (NSFW hidden, every language) without a row."""
    found = await db_session.scalar(
        select(SearchPreferences).where(SearchPreferences.user_id == user_id)
    )
    if found is None:
        return DEFAULTS
    return Preferences(show_nsfw=found.show_nsfw, languages=tuple(found.languages or ()))


async def update_preferences(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    show_nsfw: bool | None = None,
    languages: Iterable[str] | None = None,
) -> Preferences:
    """Change the given fields (None: keep), in one upsert."""
    current = await get_preferences(db_session=db_session, user_id=user_id)
    wanted = Preferences(
        show_nsfw=current.show_nsfw if show_nsfw is None else show_nsfw,
        languages=current.languages if languages is None else tuple(dict.fromkeys(languages)),
    )
    insert = (
        postgresql.insert if db_session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    values = {"show_nsfw": wanted.show_nsfw, "languages": list(wanted.languages)}
    await db_session.execute(
        insert(SearchPreferences)
        .values(user_id=user_id, **values)
        .on_conflict_do_update(index_elements=[SearchPreferences.user_id], set_=values)
    )
    await db_session.commit()
    return wanted


def provider_languages(providers: Iterable[Provider]) -> list[str]:
    """The languages the registered providers are in, for the Settings choices."""
    return sorted({provider.definition.language.lower() for provider in providers})
