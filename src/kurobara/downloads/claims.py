"""The Downloader's side of the queue: which providers have work, make a down provider's
chapters wait, lease chapters, record progress (renewing the lease), finish or fail them.

As in ``updates/claims.py``: PostgreSQL picks candidates with ``FOR UPDATE SKIP LOCKED`` so
replicas never wait on each other, and SQLite (one writer) keeps a row only when its
conditional UPDATE's row count says it won. Every later write is conditional on the lease
still being ours, so a replica whose lease expired (it was presumed dead) cannot overwrite the
one that took the chapter over, and a deleted download stops its worker at the next page.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kurobara.downloads import rules
from kurobara.downloads.models import ChapterDownload

CD = ChapterDownload
SQLITE_LOOKAHEAD = 4


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(CD.state.in_(rules.WORKABLE), CD.next_attempt_at <= now),
        and_(CD.state == rules.RUNNING, CD.lease_expires_at <= now),
    )


def _ours(chapter_id: uuid.UUID, owner: str) -> ColumnElement[bool]:
    return and_(CD.chapter_id == chapter_id, CD.state == rules.RUNNING, CD.lease_owner == owner)


async def pending_providers(*, db_session: AsyncSession, now: datetime) -> list[str]:
    rows = await db_session.scalars(
        select(CD.provider_id).where(_claimable(now)).distinct().order_by(CD.provider_id)
    )
    return list(rows.all())


async def wait_provider(
    *, db_session: AsyncSession, provider_id: str, reason: str, now: datetime
) -> int:
    """The provider may not be asked: its claimable chapters wait (attempts untouched) with the
    reason. Rows already waiting for that reason are not rewritten. Committed."""
    result = await db_session.execute(
        update(CD)
        .where(
            CD.provider_id == provider_id,
            _claimable(now),
            or_(CD.state != rules.WAITING, CD.reason.is_(None), CD.reason != reason),
        )
        .values(
            state=rules.WAITING, reason=reason, lease_owner=None, lease_expires_at=None,
            updated_at=now,
        )
    )  # fmt: skip
    await db_session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def claim(
    *,
    db_session: AsyncSession,
    provider_ids: list[str],
    owner: str,
    now: datetime,
    limit: int,
    lease_until: datetime,
) -> list[uuid.UUID]:
    """Lease up to ``limit`` claimable chapters of these providers, oldest request first; the
    chapter ids won. One transaction, committed."""
    if limit <= 0 or not provider_ids:
        return []
    candidates = (
        select(CD.chapter_id)
        .where(CD.provider_id.in_(provider_ids), _claimable(now))
        .order_by(CD.created_at, CD.chapter_id)
        .limit(limit)
    )
    lease: dict[str, Any] = {
        "state": rules.RUNNING,
        "reason": None,
        "lease_owner": owner,
        "lease_expires_at": lease_until,
        "updated_at": now,
    }
    won: list[uuid.UUID] = []
    if db_session.get_bind().dialect.name == "postgresql":
        ids = list((await db_session.scalars(candidates.with_for_update(skip_locked=True))).all())
        if ids:
            returned = await db_session.scalars(
                update(CD)
                .where(CD.chapter_id.in_(ids), _claimable(now))
                .values(**lease)
                .returning(CD.chapter_id)
            )
            won = list(returned.all())
    else:
        # Another Downloader may win the first candidates between our SELECT and UPDATE: look
        # further down the queue than ``limit`` so that it does not win every round.
        more = candidates.limit(limit * SQLITE_LOOKAHEAD)
        for chapter_id in (await db_session.scalars(more)).all():
            result = await db_session.execute(
                update(CD).where(CD.chapter_id == chapter_id, _claimable(now)).values(**lease)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                won.append(chapter_id)
                if len(won) == limit:
                    break
    await db_session.commit()
    return won


async def record_progress(
    *,
    db_session: AsyncSession,
    chapter_id: uuid.UUID,
    owner: str,
    pages_done: int,
    page_count: int,
    lease_until: datetime,
    now: datetime,
) -> bool:
    """Pages on disk so far, and a renewed lease; False when the chapter is no longer ours
    (deleted, or taken over after our lease expired). Committed."""
    result = await db_session.execute(
        update(CD)
        .where(_ours(chapter_id, owner))
        .values(
            pages_done=pages_done, page_count=page_count, lease_expires_at=lease_until,
            updated_at=now,
        )
    )  # fmt: skip
    await db_session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def finish(
    *, db_session: AsyncSession, chapter_id: uuid.UUID, owner: str, size_bytes: int, now: datetime
) -> bool:
    result = await db_session.execute(
        update(CD)
        .where(_ours(chapter_id, owner))
        .values(
            state=rules.DONE, reason=None, size_bytes=size_bytes, pages_done=CD.page_count,
            lease_owner=None, lease_expires_at=None, done_at=now, updated_at=now,
        )
    )  # fmt: skip
    await db_session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def fail(
    *,
    db_session: AsyncSession,
    chapter_id: uuid.UUID,
    owner: str,
    kind: str,
    message: str,
    max_attempts: int,
    now: datetime,
) -> str | None:
    """A real failure: queued again later or ``failed`` (``rules.after_failure``); the new
    state, None when the chapter was not ours any more. Committed."""
    attempts = await db_session.scalar(select(CD.attempts).where(_ours(chapter_id, owner)))
    if attempts is None:
        await db_session.commit()
        return None
    after = rules.after_failure(
        attempts=attempts, max_attempts=max_attempts, kind=kind, message=message, now=now
    )
    result = await db_session.execute(
        update(CD)
        .where(_ours(chapter_id, owner))
        .values(
            state=after.state, attempts=after.attempts, reason=after.reason,
            next_attempt_at=after.next_attempt_at, lease_owner=None, lease_expires_at=None,
            updated_at=now,
        )
    )  # fmt: skip
    await db_session.commit()
    return after.state if result.rowcount == 1 else None  # type: ignore[attr-defined]


async def wait(
    *, db_session: AsyncSession, chapter_id: uuid.UUID, owner: str, reason: str, now: datetime
) -> None:
    """Hand a chapter back to wait for its provider (no attempt counted). Committed."""
    await db_session.execute(
        update(CD)
        .where(_ours(chapter_id, owner))
        .values(
            state=rules.WAITING, reason=reason, lease_owner=None, lease_expires_at=None,
            updated_at=now,
        )
    )  # fmt: skip
    await db_session.commit()


async def release_leases(*, db_session: AsyncSession, owner: str, now: datetime) -> int:
    """Hand back every chapter of ``owner`` (on stop): queued again, pages on disk kept."""
    result = await db_session.execute(
        update(CD)
        .where(CD.state == rules.RUNNING, CD.lease_owner == owner)
        .values(state=rules.QUEUED, lease_owner=None, lease_expires_at=None, updated_at=now)
    )
    await db_session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
