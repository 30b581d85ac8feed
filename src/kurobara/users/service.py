"""Account logic: registration, authentication, password changes, admin bootstrap."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.db.instance import InstanceSetting
from kurobara.users.defaults import default_admin_email
from kurobara.users.models import User
from kurobara.users.security import hash_is_weaker, hash_password, verify_password
from kurobara.users.throttle import LoginThrottle

# The instance row whose primary key lets exactly one registration become the first admin.
FIRST_ADMIN_NAME = "first_admin"


class UserError(Exception):
    """Base of account errors; ``kind`` names the case for the route to map."""

    kind = "user_error"


class UserExists(UserError):
    kind = "exists"

    def __init__(self, field: str) -> None:
        super().__init__(f"a user with that {field} already exists")
        self.field = field


class WrongPassword(UserError):
    kind = "wrong_password"


class InvalidCredentials(UserError):
    kind = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Incorrect username or password")


class LoginThrottled(UserError):
    kind = "throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed logins; try again later")
        self.retry_after = retry_after


async def get(*, db_session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await db_session.get(User, user_id)


async def get_by_username(*, db_session: AsyncSession, username: str) -> User | None:
    return await db_session.scalar(select(User).where(User.username_key == username.lower()))


async def count_superusers(*, db_session: AsyncSession) -> int:
    return await db_session.scalar(select(func.count()).where(User.is_superuser.is_(True))) or 0


async def has_users(*, db_session: AsyncSession) -> bool:
    """Whether the instance has any account yet (until then, the first one becomes the admin)."""
    return await db_session.scalar(select(User.id).limit(1)) is not None


async def create(
    *,
    db_session: AsyncSession,
    username: str,
    email: str,
    password: str,
    is_superuser: bool | None = None,
) -> User:
    """Create a user; raise ``UserExists`` naming the clashing field. Checked up front for a clear
    message, and enforced by the unique constraints for the concurrent case.

    With ``is_superuser=None`` the first account of an instance becomes its admin, so that a
    fresh ``make run`` needs no extra step. Several registrations may all see an empty table;
    each then also inserts the one ``first_admin`` instance row in its transaction, and only
    the one whose insert wins keeps the admin flag (the others are retried as regular users)."""
    clash = await db_session.scalar(
        select(User).where(
            or_(User.username_key == username.lower(), User.email_key == email.lower())
        )
    )
    if clash is not None:
        raise UserExists("username" if clash.username_key == username.lower() else "email")
    hashed = await hash_password(password)
    claim_first = is_superuser is None and not await db_session.scalar(
        select(func.count()).select_from(User)
    )
    if claim_first:
        try:
            return await _insert(
                db_session,
                username=username,
                email=email,
                hashed=hashed,
                is_superuser=True,
                claim_first=True,
            )
        except IntegrityError:
            await db_session.rollback()
    try:
        return await _insert(
            db_session,
            username=username,
            email=email,
            hashed=hashed,
            is_superuser=bool(is_superuser),
            claim_first=False,
        )
    except IntegrityError as exc:
        await db_session.rollback()
        raise UserExists("username or email") from exc


async def _insert(
    db_session: AsyncSession,
    *,
    username: str,
    email: str,
    hashed: str,
    is_superuser: bool,
    claim_first: bool,
) -> User:
    user = User(
        username=username,
        username_key=username.lower(),
        email=email,
        email_key=email.lower(),
        hashed_password=hashed,
        is_superuser=is_superuser,
    )
    db_session.add(user)
    if claim_first:
        await db_session.flush()
        db_session.add(InstanceSetting(name=FIRST_ADMIN_NAME, value=str(user.id)))
    await db_session.commit()
    return user


async def authenticate(*, db_session: AsyncSession, username: str, password: str) -> User | None:
    user = await get_by_username(db_session=db_session, username=username)
    valid = await verify_password(password, user.hashed_password if user else None)
    if user is None or not valid or not user.is_active:
        return None
    if hash_is_weaker(user.hashed_password):
        # The configured cost was raised: store this password at the new cost now that we have
        # it in the clear. The token fingerprint changes with it, so other sessions sign out once.
        user.hashed_password = await hash_password(password)
        await db_session.commit()
    return user


def throttle_key(*, username: str, client: str) -> str:
    """Failures count per username and client address, so one attacker cannot lock out a user
    everywhere and one client cannot spray many usernames unnoticed."""
    return f"{username.lower()}|{client}"


async def login(
    *,
    db_session: AsyncSession,
    throttle: LoginThrottle,
    username: str,
    password: str,
    client: str,
) -> User:
    """Authenticate through the login throttle; the API and the web UI share it so that
    failures on either count together. Raises ``LoginThrottled`` or ``InvalidCredentials``."""
    key = throttle_key(username=username, client=client)
    # Counted before the password is checked: concurrent guesses cannot all pass the limit.
    if wait := await throttle.attempt(key):
        raise LoginThrottled(wait)
    user = await authenticate(db_session=db_session, username=username, password=password)
    if user is None:
        raise InvalidCredentials
    await throttle.reset(key)
    return user


async def change_password(
    *, db_session: AsyncSession, user: User, current_password: str, new_password: str
) -> User:
    if not await verify_password(current_password, user.hashed_password):
        raise WrongPassword("the current password is wrong")
    user.hashed_password = await hash_password(new_password)
    await db_session.commit()
    return user


async def set_check_interval(*, db_session: AsyncSession, user: User, interval: int) -> User:
    user.provider_check_interval = interval
    await db_session.commit()
    return user


async def ensure_admin(
    *, db_session: AsyncSession, username: str, password: str, email: str | None = None
) -> tuple[User, bool]:
    """Create the superuser, or promote an existing user of that name and set the password.
    Returns the user and whether it was created."""
    user = await get_by_username(db_session=db_session, username=username)
    if user is None:
        email = email or default_admin_email(username)
        return (
            await create(
                db_session=db_session,
                username=username,
                email=email,
                password=password,
                is_superuser=True,
            ),
            True,
        )
    user.is_superuser = True
    user.is_active = True
    user.hashed_password = await hash_password(password)
    await db_session.commit()
    return user, False
