"""Application factory: settings in, a FastAPI app out, with a lifespan that opens the database,
loads instance secrets and starts the background components."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from kurobara import __version__
from kurobara.api_docs import install_api_docs
from kurobara.config import Settings
from kurobara.db.deps import DatabaseDep
from kurobara.db.engine import Database
from kurobara.db.instance import get_or_create_secret
from kurobara.library.routes import favorites_router, library_router
from kurobara.manga.routes import manga_router
from kurobara.manga.service import TTLCache
from kurobara.monitoring.jobs import start_monitoring
from kurobara.monitoring.routes import metrics_router, providers_router
from kurobara.providers.http import HttpClient
from kurobara.providers.registry import ProviderRegistry
from kurobara.providers.routes import search_router
from kurobara.users import service as user_service
from kurobara.users.routes import auth_router, users_router
from kurobara.users.throttle import MemoryLoginThrottle, RedisLoginThrottle
from kurobara.web import install as install_web

logger = logging.getLogger("kurobara")


async def _open_redis(settings: Settings, stack: AsyncExitStack) -> Any:
    if not settings.redis_url:
        return None
    import redis.asyncio as aioredis

    client = aioredis.from_url(settings.redis_url, decode_responses=True)
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
            email=settings.admin_email or f"{settings.admin_username.lower()}@localhost",
            password=settings.admin_password.get_secret_value(),
            is_superuser=True,
        )
        logger.info("created admin user=%s from environment", settings.admin_username)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    async with AsyncExitStack() as stack:
        db = Database(settings.resolved_database_url)
        stack.push_async_callback(db.dispose)
        app.state.db = db
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
        else:
            app.state.login_throttle = MemoryLoginThrottle(
                max_failures=settings.login_max_failures,
                window_seconds=settings.login_window_seconds,
            )
        app.state.http = HttpClient(
            user_agent=settings.http_user_agent, timeout=settings.check_timeout
        )
        stack.push_async_callback(app.state.http.aclose)
        app.state.registry = ProviderRegistry.from_settings(settings, app.state.http)
        await _bootstrap_admin(settings, db)
        await start_monitoring(app, stack)
        yield


health_router = APIRouter(tags=["health"])


@health_router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving."""
    return {"status": "ok", "version": __version__}


@health_router.get("/readyz")
async def readyz(db: DatabaseDep) -> JSONResponse:
    """The database answers; a load balancer sends traffic only when this is 200."""
    try:
        await db.ping()
    except Exception as exc:
        logger.warning("readiness check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": db.dialect})


class _AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: a 422 echoes the refused input, and a lone surrogate in it
    cannot be encoded as UTF-8 (the default response would turn the 422 into a 500)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False).encode("ascii")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _AsciiJSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # /docs comes from install_api_docs (offline assets); ReDoc would need a CDN, so it is off.
    app = FastAPI(
        title="Kurobara", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.state.chapter_cache = TTLCache(ttl=settings.chapter_cache_seconds)
    api = APIRouter(prefix="/api/v1")
    api.include_router(auth_router)
    api.include_router(users_router)
    api.include_router(providers_router)
    api.include_router(library_router)
    api.include_router(favorites_router)
    api.include_router(search_router)
    api.include_router(manga_router)
    app.include_router(api)
    app.include_router(health_router)
    app.include_router(metrics_router)
    install_web(app)
    install_api_docs(app)
    return app
