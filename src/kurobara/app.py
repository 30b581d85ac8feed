"""Application factory: settings in, a FastAPI app out, with a lifespan that opens the database,
loads instance secrets and starts the background components."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import math
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import sqlalchemy.exc
from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from kurobara import __version__, routing
from kurobara.api_docs import install_api_docs
from kurobara.catalog.jobs import start_catalog
from kurobara.catalog.routes import catalog_router
from kurobara.categories.routes import categories_router
from kurobara.config import Settings
from kurobara.db.deps import DatabaseDep
from kurobara.db.engine import Database
from kurobara.db.instance import get_or_create_secret
from kurobara.db.scheduled import start_scheduled_backup
from kurobara.downloads.jobs import start_downloads
from kurobara.downloads.routes import downloads_router
from kurobara.failover.jobs import start_scout
from kurobara.failover.routes import failover_router
from kurobara.images.links import bind_images
from kurobara.images.local_routes import local_router
from kurobara.images.routes import images_router
from kurobara.images.service import open_image_proxy
from kurobara.library.jobs import start_import_worker
from kurobara.library.routes import favorites_router, library_router
from kurobara.manga.routes import manga_router
from kurobara.middleware import BodyLimit, RequestGuard
from kurobara.monitoring.jobs import start_monitoring
from kurobara.monitoring.routes import metrics_router, providers_router
from kurobara.opds.routes import install as install_opds
from kurobara.opds.routes import open_catalog as open_opds
from kurobara.providers.http import HttpClient
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading.routes import reading_router
from kurobara.search.routes import search_router
from kurobara.updates.jobs import start_updates
from kurobara.updates.routes import library_updates_router, notifications_router, updates_router
from kurobara.users import service as user_service
from kurobara.users.admin_routes import (
    admin_users_router,
    invitations_router,
    registration_router,
    tokens_router,
)
from kurobara.users.cache import UserCache
from kurobara.users.defaults import default_admin_email
from kurobara.users.routes import auth_router, users_router
from kurobara.users.security import configure_password_hashing
from kurobara.users.throttle import FileLoginThrottle, MemoryLoginThrottle, RedisLoginThrottle
from kurobara.validation import readable
from kurobara.web import install as install_web

logger = logging.getLogger("kurobara")

REDIS_TIMEOUT_SECONDS = 2.0
# What a 503 for an exhausted connection pool asks the client to wait before trying again.
POOL_RETRY_SECONDS = 5


async def _open_redis(settings: Settings, stack: AsyncExitStack) -> Any:
    if not settings.redis_url:
        return None
    import redis.asyncio as aioredis

    # Short timeouts: an unreachable Redis must not hold a login for long (see users/throttle.py).
    client = aioredis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    stack.push_async_callback(client.aclose)
    return client


async def _bootstrap_admin(settings: Settings, db: Database) -> None:
    if not (settings.admin_username and settings.admin_password):
        return
    async with db.session() as session:
        if await user_service.get_by_username(db_session=session, username=settings.admin_username):
            return
        await user_service.create(
            db_session=session,
            username=settings.admin_username,
            email=settings.admin_email or default_admin_email(settings.admin_username),
            password=settings.admin_password.get_secret_value(),
            is_superuser=True,
        )
        logger.info("created admin user=%s from environment", settings.admin_username)


# Matches no route, so that routing tries them all.
WARM_UP_PATH = "/api/v1/-warm-up-"


async def warm_routes(app: FastAPI) -> None:
    """Route one request that matches nothing through the app, in-process. FastAPI resolves each
    route's dependencies when routing first meets it: the first request to reach a route paid
    for every route tried before it (about 100 ms for the first search of a fresh server,
    bench/search.py). The answer (a 404) goes nowhere."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": WARM_UP_PATH,
        "raw_path": WARM_UP_PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"accept", b"application/json")],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    try:
        await app(scope, receive, send)
    except Exception:  # serving goes on; the first request then pays as before
        logger.exception("warming the routes failed")


def freeze_startup_objects() -> None:
    """Move every object alive after start-up (modules, classes, routes, models: some 270 000
    of them) out of the garbage collector's view. They live as long as the process, yet each
    full collection walked them all: 0.14-0.22 s per collection, a quarter of a 10 000-provider
    sweep's time (bench/monitor.py). ``gc.unfreeze`` at shutdown gives them back."""
    gc.freeze()


async def _settle(app: FastAPI) -> None:
    # After start-up, not before it: serving does not wait for it.
    await warm_routes(app)
    freeze_startup_objects()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    async with AsyncExitStack() as stack:
        db = Database(settings.resolved_database_url, **settings.database_pool())
        stack.push_async_callback(db.dispose)
        app.state.db = db
        # Cached user rows belong to this database: a new lifespan starts with none.
        app.state.user_cache = UserCache(settings.auth_cache_seconds)
        if settings.secret_key is not None:
            app.state.secret_key = settings.secret_key.get_secret_value()
        else:
            async with db.session() as session:
                app.state.secret_key = await get_or_create_secret(session)
        app.state.redis = await _open_redis(settings, stack)
        if app.state.redis is not None:
            app.state.login_throttle = RedisLoginThrottle(
                app.state.redis,
                max_failures=settings.login_max_failures,
                window_seconds=settings.login_window_seconds,
            )
        elif settings.workers > 1:
            app.state.login_throttle = FileLoginThrottle(
                settings.data_dir / "run" / "logins.db",
                max_failures=settings.login_max_failures,
                window_seconds=settings.login_window_seconds,
            )
        else:
            app.state.login_throttle = MemoryLoginThrottle(
                max_failures=settings.login_max_failures,
                window_seconds=settings.login_window_seconds,
            )
        app.state.http = HttpClient.from_settings(settings)
        stack.push_async_callback(app.state.http.aclose)
        app.state.registry = ProviderRegistry.from_settings(settings, app.state.http)
        app.state.images = open_image_proxy(settings, app.state)
        open_opds(app.state, settings)
        await _bootstrap_admin(settings, db)
        await start_catalog(app, stack)
        await start_monitoring(app, stack)
        await start_import_worker(app, stack)
        await start_updates(app, stack)
        await start_downloads(app, stack)
        await start_scheduled_backup(app, stack)
        await start_scout(app, stack)
        stack.callback(gc.unfreeze)
        app.state.routes_warmed = asyncio.create_task(_settle(app), name="settle")
        stack.push_async_callback(_cancel, app.state.routes_warmed)
        yield


health_router = APIRouter(tags=["health"])


@health_router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving."""
    return {"status": "ok", "version": __version__}


@health_router.get("/readyz")
async def readyz(request: Request, db: DatabaseDep) -> JSONResponse:
    """The database answers; a load balancer sends traffic only when this is 200. Redis is
    reported but does not make the replica unready: without it logins count in-process."""
    try:
        await db.ping()
    except Exception as exc:
        logger.warning("readiness check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    redis_state = await _redis_state(request.app.state.redis)
    return JSONResponse(
        {
            "status": "ok" if redis_state != "unreachable" else "degraded",
            "database": db.dialect,
            "redis": redis_state,
        }
    )


async def _redis_state(redis: Any) -> str:
    if redis is None:
        return "not configured"
    try:
        await redis.ping()
    except Exception as exc:
        logger.warning("readiness: redis unreachable: %s", exc)
        return "unreachable"
    return "ok"


class _AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: a 422 echoes the refused input, and a lone surrogate in it
    cannot be encoded as UTF-8 (the default response would turn the 422 into a 500)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False).encode("ascii")


def _finite(value: Any) -> Any:
    """The refused input as JSON can carry it: NaN, Infinity and 1e400 (read as infinity) become
    their names, since JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = _finite(jsonable_encoder(readable(exc.errors())))
    return _AsciiJSONResponse({"detail": detail}, status_code=422)


async def _pool_exhausted(request: Request, exc: Exception) -> JSONResponse:
    """No database connection came free within the pool timeout: the server is overloaded, a
    503 to retry, not a server error (uvicorn would answer 500 and drop the connection)."""
    waited = request.app.state.settings.database_pool_timeout
    detail = (
        f"The server is busy: no database connection came free within {waited:g} s; "
        "try again shortly"
    )
    return _AsciiJSONResponse(
        {"detail": detail}, status_code=503, headers={"Retry-After": str(POOL_RETRY_SECONDS)}
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_password_hashing(settings)
    routing.install()
    # /docs comes from install_api_docs (offline assets); ReDoc would need a CDN, so it is off.
    app = FastAPI(
        title="Kurobara", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, _pool_exhausted)
    api = APIRouter(prefix="/api/v1")
    api.include_router(auth_router)
    api.include_router(users_router)
    api.include_router(providers_router)
    api.include_router(catalog_router)
    api.include_router(library_updates_router)
    api.include_router(library_router)
    api.include_router(favorites_router)
    api.include_router(search_router)
    api.include_router(manga_router)
    api.include_router(reading_router)
    api.include_router(failover_router)
    api.include_router(updates_router)
    api.include_router(notifications_router)
    api.include_router(images_router)
    api.include_router(categories_router)
    api.include_router(local_router)
    api.include_router(downloads_router)
    api.include_router(admin_users_router)
    api.include_router(registration_router)
    api.include_router(invitations_router)
    api.include_router(tokens_router)
    app.include_router(api)
    app.include_router(health_router)
    app.include_router(metrics_router)
    install_opds(app)
    install_web(app)
    install_api_docs(app)
    app.add_middleware(
        RequestGuard,
        default_max_bytes=settings.max_body_bytes,
        limits=[
            BodyLimit(prefix="/api/v1/favorites/import", max_bytes=settings.import_max_bytes),
            BodyLimit(
                prefix="/api/v1/manga/upload", max_bytes=settings.upload_max_bytes, binary=True
            ),
        ],
    )
    app.add_middleware(bind_images)
    if settings.trusted_proxies:
        # Only these peers may say who the client is (X-Forwarded-For) and whether it used TLS;
        # `kurobara serve` turns uvicorn's own handling off, which trusts loopback by default.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
