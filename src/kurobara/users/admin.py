"""What an admin does to accounts: list and search them, disable or enable, promote or demote,
reset a password, delete one with its data; and the registration switch with its invitations.

Errors: ``AdminError`` → ``RegistrationClosed``, ``UserNotFound``, ``LastAdmin`` (the change
would leave no active admin), ``InvitationInvalid`` (unknown, spent or expired). The instance
always keeps one active admin: a change to accounts locks the admin rows first (``FOR UPDATE``
on PostgreSQL), makes the change, then counts the admins left inside the same transaction (on
SQLite under the write lock the change took), so two admins demoting each other at once cannot
both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.db.instance import InstanceSetting
from kurobara.db.types import utcnow
from kurobara.library.rules import LIKE_ESCAPE, like_pattern
from kurobara.users import service as user_service
from kurobara.users.models import Invitation, User
from kurobara.users.schemas import UserCreate
from kurobara.users.security import hash_password

REGISTRATION_SETTING = "registration_enabled"
INVITATION_DAYS_MAX = 30


class AdminError(Exception):
    kind = "admin_error"


class RegistrationClosed(AdminError):
    kind = "registration_closed"

    def __init__(self) -> None:
        super().__init__("Registration is disabled; ask an admin for an invitation link")


class UserNotFound(AdminError):
    kind = "not_found"

    def __init__(self, user_id: uuid.UUID) -> None:
        super().__init__(f"no user with id {user_id}")


class LastAdmin(AdminError):
    kind = "last_admin"

    def __init__(self, action: str) -> None:
        super().__init__(f"cannot {action} the last active admin; promote another user first")


class InvitationInvalid(AdminError):
    kind = "invitation_invalid"

    def __init__(self) -> None:
        super().__init__("this invitation link is unknown, expired or already used")


@dataclass(frozen=True)
class UserPage:
    items: list[User]
    total: int


async def list_users(
    *, db_session: AsyncSession, search: str | None = None, page: int = 1, limit: int = 50
) -> UserPage:
    """Users by username; ``search`` matches a part of the username or the email."""
    conditions = []
    if search:
        pattern = like_pattern(search)
        conditions.append(
            or_(
                User.username_key.like(pattern, escape=LIKE_ESCAPE),
                User.email_key.like(pattern, escape=LIKE_ESCAPE),
            )
        )
    total = await db_session.scalar(select(func.count()).select_from(User).where(*conditions))
    rows = await db_session.scalars(
        select(User)
        .where(*conditions)
        .order_by(User.username_key)
        .limit(limit)
        .offset((page - 1) * limit)
    )
    return UserPage(items=list(rows.all()), total=total or 0)


async def _target(db_session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await db_session.get(User, user_id, populate_existing=True)
    if user is None:
        raise UserNotFound(user_id)
    return user


async def _lock_admins(db_session: AsyncSession) -> None:
    """PostgreSQL: lock every active admin row, so that concurrent changes to admins queue here
    and each sees the others' outcome. SQLite ignores ``FOR UPDATE``; there the change's own
    write takes the database's write lock before ``_ensure_an_admin_remains`` counts."""
    await db_session.execute(
        select(User.id)
        .where(User.is_superuser.is_(True), User.is_active.is_(True))
        .with_for_update()
    )


async def _ensure_an_admin_remains(db_session: AsyncSession, action: str) -> None:
    """Called after the change is flushed, inside its transaction: refuse it when no active
    admin would be left."""
    remaining = await db_session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.is_superuser.is_(True), User.is_active.is_(True))
    )
    if not remaining:
        raise LastAdmin(action)


async def update_user(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    is_active: bool | None = None,
    is_superuser: bool | None = None,
) -> User:
    """Disable/enable and promote/demote. A disabled user's tokens stop working at once: every
    request loads the user and refuses an inactive one."""
    try:
        await _lock_admins(db_session)
        user = await _target(db_session, user_id)
        action = "disable" if is_active is False and user.is_active else "demote"
        if is_active is not None:
            user.is_active = is_active
        if is_superuser is not None:
            user.is_superuser = is_superuser
        await db_session.flush()
        await _ensure_an_admin_remains(db_session, action)
        await db_session.commit()
    except AdminError:
        await db_session.rollback()
        raise
    return user


async def reset_password(*, db_session: AsyncSession, user_id: uuid.UUID, password: str) -> User:
    """Set a new password; the user's sessions and JWTs end (they carry the old hash's
    fingerprint). Personal tokens stay: revoking them is their owner's (or a delete's) job."""
    user = await _target(db_session, user_id)
    hashed = await hash_password(password)
    user.hashed_password = hashed
    await db_session.commit()
    return user


async def delete_user(*, db_session: AsyncSession, user_id: uuid.UUID) -> None:
    """Delete the account; the database cascades to its library, favorites, progress, history,
    tokens, jobs and notification settings."""
    try:
        await _lock_admins(db_session)
        user = await _target(db_session, user_id)
        db_session.expunge(user)
        await db_session.execute(delete(User).where(User.id == user_id))
        await _ensure_an_admin_remains(db_session, "delete")
        await db_session.commit()
    except AdminError:
        await db_session.rollback()
        raise


async def registration_enabled(*, db_session: AsyncSession, default: bool) -> bool:
    """The switch an admin set in the UI, else ``default`` (``KUROBARA_REGISTRATION_ENABLED``)."""
    value = await db_session.scalar(
        select(InstanceSetting.value).where(InstanceSetting.name == REGISTRATION_SETTING)
    )
    return default if value is None else value == "true"


async def set_registration(*, db_session: AsyncSession, enabled: bool) -> bool:
    row = await db_session.get(InstanceSetting, REGISTRATION_SETTING)
    if row is None:
        db_session.add(InstanceSetting(name=REGISTRATION_SETTING, value=str(enabled).lower()))
    else:
        row.value = str(enabled).lower()
    await db_session.commit()
    return enabled


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str  # shown once; only its hash is stored


async def create_invitation(
    *,
    db_session: AsyncSession,
    created_by: uuid.UUID,
    days: int,
    note: str | None = None,
    now: datetime | None = None,
) -> NewInvitation:
    token = secrets.token_urlsafe(24)
    invitation = Invitation(
        token_hash=_hash(token),
        note=note,
        created_by=created_by,
        created_at=now or utcnow(),
        expires_at=(now or utcnow()) + timedelta(days=days),
    )
    db_session.add(invitation)
    await db_session.commit()
    return NewInvitation(invitation=invitation, token=token)


async def list_invitations(*, db_session: AsyncSession) -> list[Invitation]:
    rows = await db_session.scalars(select(Invitation).order_by(Invitation.created_at.desc()))
    return list(rows.all())


async def revoke_invitation(*, db_session: AsyncSession, invitation_id: uuid.UUID) -> bool:
    result = await db_session.execute(delete(Invitation).where(Invitation.id == invitation_id))
    await db_session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def invitation_usable(
    *, db_session: AsyncSession, token: str, now: datetime | None = None
) -> bool:
    found = await db_session.scalar(
        select(Invitation.id).where(
            Invitation.token_hash == _hash(token),
            Invitation.used_at.is_(None),
            Invitation.expires_at > (now or utcnow()),
        )
    )
    return found is not None


async def register_with_invitation(
    *,
    db_session: AsyncSession,
    token: str,
    username: str,
    email: str,
    password: str,
    now: datetime | None = None,
) -> User:
    """Spend the invitation and create the account in one transaction: the conditional UPDATE
    claims it (a second use of the link finds it spent), the user's insert commits the claim,
    and a refused registration (the name is taken) rolls the claim back."""
    at = now or utcnow()
    claimed = await db_session.execute(
        update(Invitation)
        .where(
            Invitation.token_hash == _hash(token),
            Invitation.used_at.is_(None),
            Invitation.expires_at > at,
        )
        .values(used_at=at)
        .returning(Invitation.id)
        .execution_options(synchronize_session=False)
    )
    invitation_id = claimed.scalar_one_or_none()
    if invitation_id is None:
        await db_session.rollback()
        raise InvitationInvalid
    try:
        user = await user_service.create(
            db_session=db_session,
            username=username,
            email=email,
            password=password,
            is_superuser=False,
        )
    except user_service.UserExists:
        await db_session.rollback()
        raise
    await db_session.execute(
        update(Invitation).where(Invitation.id == invitation_id).values(used_by=user.id)
    )
    await db_session.commit()
    return user


async def register(*, db_session: AsyncSession, payload: UserCreate, default_open: bool) -> User:
    """Registration as the API and the sign-up page do it: open while the switch is on (an
    invitation is then not spent), else only with a usable invitation."""
    if await registration_enabled(db_session=db_session, default=default_open):
        return await user_service.create(
            db_session=db_session,
            username=payload.username,
            email=str(payload.email),
            password=payload.password,
        )
    if not payload.invitation:
        raise RegistrationClosed
    return await register_with_invitation(
        db_session=db_session,
        token=payload.invitation,
        username=payload.username,
        email=str(payload.email),
        password=payload.password,
    )
