"""Async engine and session factory for SQLite (WAL, foreign keys) and PostgreSQL.

Dead connections (a restarted PostgreSQL, ``pg_terminate_backend``, an idle timeout) are
handled without a per-checkout ping, which cost a request three round trips
(``BEGIN; ';'; ROLLBACK``):

- at checkout, a connection whose socket the server has already closed is swapped for a new
  one (``_discard_closed``: no round trip, the driver knows);
- a session whose *first* statement finds its connection dead runs that statement again on a
  fresh connection (``RetryingSession``): nothing had been done in that transaction yet, so
  running it again is the same as running it once.

Read-only requests on PostgreSQL run in autocommit (``Database.read_session``): no ``BEGIN`` and
no closing ``ROLLBACK`` around their ``SELECT``s. SQLite's driver never sends ``BEGIN`` before a
read, so there the read session is the ordinary one.

The pool serves waiting sessions in the order they came (``FairPool``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty


class _FairQueue(AsyncAdaptedQueue[ConnectionPoolEntry]):
    """The pool's queue, first come first served. SQLAlchemy's lets a connection coming back
    go to whichever task asks next, ahead of those already waiting, and a waiter that lost it
    queues again at the back: with more requests than connections, some waited 6-13 s while
    the median took 0.2 s (docs/benchmarks.md). Here a connection coming back goes straight to
    the longest waiter, and nobody takes one from the queue while others wait."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[ConnectionPoolEntry]] = deque()

    @property
    def waiting(self) -> int:
        return sum(not waiter.done() for waiter in self._waiters)

    def put_nowait(self, item: ConnectionPoolEntry) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def put(
        self, item: ConnectionPoolEntry, block: bool = True, timeout: float | None = None
    ) -> None:
        self.put_nowait(item)  # the pool only ever puts without blocking; never more than it took

    def get(self, block: bool = True, timeout: float | None = None) -> ConnectionPoolEntry:
        if not block or not self.waiting:
            try:
                return self.get_nowait()
            except Empty:
                if not block:
                    raise
        waiter: asyncio.Future[ConnectionPoolEntry] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await_(asyncio.wait_for(waiter, timeout))
        except TimeoutError as exc:
            raise Empty() from exc
        except BaseException:
            # Cancelled just as a connection was handed over: pass it on, never lose it.
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            raise


class FairPool(AsyncAdaptedQueuePool):
    """``AsyncAdaptedQueuePool`` whose waiting sessions are served in arrival order."""

    _queue_class = _FairQueue
    _pool: _FairQueue

    @property
    def waiting(self) -> int:
        """Sessions waiting for a connection now."""
        return self._pool.waiting


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


_CONNECTED = "kurobara_connected"


def _discard_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Checkout: a connection the server closed is replaced (the pool retries on this error)."""
    driver = getattr(dbapi_connection, "_connection", None)  # asyncpg's, under the adapter
    is_closed = getattr(driver, "is_closed", None)
    if is_closed is not None and is_closed():
        raise DisconnectionError("the server closed this connection")


class RetryingSession(Session):
    """A session that survives a connection found dead by the transaction's first statement:
    that statement is run once more on a new connection (the pool has already discarded the
    dead one). A connection lost later in a transaction still fails it: earlier statements
    would be lost with it."""

    def _first_retried(self, run: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.info.get(_CONNECTED):
            return run(*args, **kwargs)
        try:
            return run(*args, **kwargs)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            self.rollback()
            return run(*args, **kwargs)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self._first_retried(super().execute, *args, **kwargs)

    def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return self._first_retried(super().scalar, *args, **kwargs)

    def scalars(self, *args: Any, **kwargs: Any) -> Any:
        return self._first_retried(super().scalars, *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._first_retried(super().get, *args, **kwargs)


@event.listens_for(RetryingSession, "after_begin")
def _connected(session: Session, _transaction: SessionTransaction, _connection: Any) -> None:
    session.info[_CONNECTED] = True


@event.listens_for(RetryingSession, "after_transaction_end")
def _released(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTED, None)


def build_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs.setdefault("poolclass", FairPool)
        else:
            # One shared connection, no queue: pool options do not apply.
            for option in ("pool_size", "max_overflow", "pool_timeout"):
                kwargs.pop(option, None)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("poolclass", FairPool)
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine.pool, "checkout", _discard_closed)
    return engine


class Database:
    """Owns the engine; hands out one ``AsyncSession`` per task."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = build_engine(url, **engine_kwargs)
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=RetryingSession
        )
        read_engine = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.engine.dialect.name == "postgresql"
            else self.engine
        )
        self.read_sessionmaker = async_sessionmaker(
            read_engine, expire_on_commit=False, sync_session_class=RetryingSession
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only: on PostgreSQL each statement runs on its own, outside a
        transaction (a write in it would commit at once, statement by statement)."""
        async with self.read_sessionmaker() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
