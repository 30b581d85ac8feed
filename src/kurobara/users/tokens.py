"""Personal access tokens: named, scoped ``read`` or ``write``, revocable, shown once and stored
as their SHA-256 (a token is random enough that a fast hash suffices, and a lookup is one
indexed read). A token reads as ``kbt_`` and 43 URL-safe characters, so it is told apart from a
JWT before anything is decoded."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.db.types import utcnow
from kurobara.users.models import PersonalToken, User

TOKEN_PREFIX = "kbt_"
SCOPES = ("read", "write")
MAX_TOKENS_PER_USER = 50
# last_used_at is written at most this often per token, so that a busy script does not turn
# every read into a write.
LAST_USED_GRANULARITY = timedelta(minutes=1)


class TooManyTokens(Exception):
    kind = "too_many_tokens"

    def __init__(self) -> None:
        super().__init__(f"at most {MAX_TOKENS_PER_USER} tokens per user; revoke some first")


def is_personal_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    record: PersonalToken
    token: str


async def create_token(
    *, db_session: AsyncSession, user_id: uuid.UUID, name: str, scope: str
) -> NewToken:
    count = await db_session.scalar(
        select(func.count()).select_from(PersonalToken).where(PersonalToken.user_id == user_id)
    )
    if (count or 0) >= MAX_TOKENS_PER_USER:
        raise TooManyTokens
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = PersonalToken(
        user_id=user_id,
        name=name,
        scope=scope,
        token_hash=token_hash(token),
        prefix=token[: len(TOKEN_PREFIX) + 6],
    )
    db_session.add(record)
    await db_session.commit()
    return NewToken(record=record, token=token)


async def list_tokens(*, db_session: AsyncSession, user_id: uuid.UUID) -> list[PersonalToken]:
    rows = await db_session.scalars(
        select(PersonalToken)
        .where(PersonalToken.user_id == user_id)
        .order_by(PersonalToken.created_at.desc(), PersonalToken.id)
    )
    return list(rows.all())


async def revoke_token(
    *, db_session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID
) -> bool:
    """Delete one of the user's tokens; False when it is not theirs (or not there)."""
    result = await db_session.execute(
        delete(PersonalToken).where(PersonalToken.id == token_id, PersonalToken.user_id == user_id)
    )
    await db_session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def authenticate_token(
    *, db_session: AsyncSession, token: str, now: datetime | None = None
) -> tuple[User, PersonalToken] | None:
    """The active user a token belongs to, with the token; None for an unknown or revoked
    token or a disabled user."""
    found = (
        await db_session.execute(
            select(User, PersonalToken)
            .join(PersonalToken, PersonalToken.user_id == User.id)
            .where(PersonalToken.token_hash == token_hash(token))
        )
    ).first()
    if found is None:
        return None
    user, record = found[0], found[1]
    if not user.is_active:
        return None
    at = now or utcnow()
    if record.last_used_at is None or at - record.last_used_at >= LAST_USED_GRANULARITY:
        record.last_used_at = at
        await db_session.commit()
    return user, record
