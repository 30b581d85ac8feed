"""A short-lived, per-process cache of authenticated users, so that a request carrying a JWT
does not read its user row every time.

What is kept is the row's values, for ``ttl`` seconds (``KUROBARA_AUTH_CACHE_SECONDS``, 0: off).
Each request gets its own ``User`` built from them and attached to its session, as if it had
been loaded there, so a route that changes its user (a password, the check interval) writes
through its session as before.

The checks that decide whether a token is good still run on every request against the cached
values: the user is active, and the token's password fingerprint matches the password hash.
Any change to a user row made through an ORM session in this process (a password change or
reset, disable, demotion, deletion, bulk ``UPDATE``/``DELETE`` of users) drops the cached copy
when it is flushed and again when it commits, so it takes effect at once here; another process
(a second worker, a replica) sees it within ``ttl``.
"""

from __future__ import annotations

import time
import uuid
import weakref
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, make_transient_to_detached

from kurobara.users.models import User

_CHANGED = "kurobara_users_changed"
_ALL = "all"
_COLUMNS = tuple(attr.key for attr in inspect(User).column_attrs)
_caches: weakref.WeakSet[UserCache] = weakref.WeakSet()


class UserCache:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._rows: dict[uuid.UUID, tuple[float, dict[str, Any]]] = {}
        _caches.add(self)

    def get(self, db_session: AsyncSession, user_id: uuid.UUID) -> User | None:
        """The cached user, attached to ``db_session``; ``None`` when not cached or expired."""
        cached = self._rows.get(user_id)
        if cached is None:
            return None
        expires, values = cached
        if time.monotonic() >= expires:
            self._rows.pop(user_id, None)
            return None
        user = User(**values)
        make_transient_to_detached(user)
        db_session.add(user)
        return user

    def put(self, user: User) -> None:
        if self.ttl <= 0:
            return
        values = {name: getattr(user, name) for name in _COLUMNS}
        self._rows[user.id] = (time.monotonic() + self.ttl, values)

    def drop(self, user_id: uuid.UUID | None) -> None:
        """Forget one user (``None``: everyone)."""
        if user_id is None:
            self._rows.clear()
        else:
            self._rows.pop(user_id, None)


def invalidate(user_ids: set[Any]) -> None:
    for cache in list(_caches):
        if _ALL in user_ids:
            cache.drop(None)
            continue
        for user_id in user_ids:
            cache.drop(user_id)


@event.listens_for(Session, "after_flush")
def _users_flushed(session: Session, _flush: UOWTransaction) -> None:
    changed = {obj.id for obj in (*session.dirty, *session.deleted) if isinstance(obj, User)}
    if changed:
        session.info.setdefault(_CHANGED, set()).update(changed)
        invalidate(changed)


@event.listens_for(Session, "do_orm_execute")
def _users_bulk_written(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is inspect(User):
        state.session.info.setdefault(_CHANGED, set()).add(_ALL)
        invalidate({_ALL})


@event.listens_for(Session, "after_commit")
def _users_committed(session: Session) -> None:
    # Again after the commit: a request may have cached the old row between flush and commit.
    changed = session.info.pop(_CHANGED, None)
    if changed:
        invalidate(changed)


@event.listens_for(Session, "after_soft_rollback")
def _users_rolled_back(session: Session, _previous: Any) -> None:
    session.info.pop(_CHANGED, None)
