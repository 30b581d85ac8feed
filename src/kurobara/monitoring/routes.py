"""HTTP for monitoring: ``/api/v1/providers/...`` (authenticated) and ``/metrics`` (bearer
``KUROBARA_METRICS_TOKEN`` when set). Parse, authorize, call one service function, shape."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from kurobara.db.deps import SessionDep
from kurobara.monitoring import events, metrics, notifications, service
from kurobara.monitoring.deps import (
    CheckerDep,
    ClockDep,
    RegistryDep,
    SettingsDep,
    TestLimiterDep,
)
from kurobara.monitoring.schemas import (
    CheckIntervalRead,
    CheckIntervalUpdate,
    CheckResultRead,
    HistoryRead,
    ProviderRead,
    ProviderSettingsUpdate,
    ProviderStatusRead,
    StatisticsRead,
    Window,
)
from kurobara.providers.registry import UnknownProvider
from kurobara.users.deps import AdminUser, CurrentUser

providers_router = APIRouter(prefix="/providers", tags=["providers"])


def _not_found(provider_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Unknown provider {provider_id!r}")


@providers_router.get("/", response_model=list[ProviderRead])
async def list_providers(
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> list[ProviderRead]:
    """Every registered provider with its health: the seed's fields plus ``is_healthy``,
    the effective check interval and uptime over 24 h / 7 d / 30 d."""
    views = await service.list_providers(
        db_session=db_session, registry=registry, settings=settings, now=clock.now()
    )
    return [ProviderRead.model_validate(view) for view in views]


@providers_router.get("/status", response_model=list[ProviderStatusRead])
async def provider_statuses(
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> list[ProviderStatusRead]:
    """The seed's full ProviderStatus for every provider."""
    views = await service.list_providers(
        db_session=db_session, registry=registry, settings=settings, now=clock.now()
    )
    return [ProviderStatusRead.model_validate(view) for view in views]


@providers_router.get("/statistics", response_model=StatisticsRead)
async def provider_statistics(
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> StatisticsRead:
    """Counts by status, enabled and disabled, average uptime, the fastest and slowest
    provider, and checks in the last 24 h."""
    stats = await service.statistics(
        db_session=db_session, registry=registry, settings=settings, now=clock.now()
    )
    return StatisticsRead.model_validate(stats)


@providers_router.patch("/check-interval", response_model=CheckIntervalRead)
async def set_check_interval(
    body: CheckIntervalUpdate,
    user: CurrentUser,
    db_session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    checker: CheckerDep,
) -> CheckIntervalRead:
    """The caller's own preference; the shortest among active users drives providers that
    have no admin override."""
    effective = await service.set_user_interval(
        db_session=db_session, user=user, interval=body.interval, settings=settings, now=clock.now()
    )
    checker.forget_user_interval()
    return CheckIntervalRead(interval=body.interval, effective_check_interval=effective)


@providers_router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def provider_events(
    request: Request, user: CurrentUser, db_session: SessionDep
) -> StreamingResponse:
    """Server-sent events: ``testing`` when a check starts and ``check`` (status, counters,
    transition) when it is recorded, from every replica when Redis is configured. The stream
    ends after about a minute; EventSource reconnects by itself."""
    await db_session.close()  # the stream holds no database connection
    stream = events.sse_stream(request.app.state.events, is_disconnected=request.is_disconnected)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@providers_router.get("/{provider_id}", response_model=ProviderRead)
async def get_provider(
    provider_id: str,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> ProviderRead:
    try:
        view = await service.get_provider(
            db_session=db_session,
            registry=registry,
            settings=settings,
            now=clock.now(),
            provider_id=provider_id,
        )
    except service.ProviderNotFound:
        raise _not_found(provider_id) from None
    return ProviderRead.model_validate(view)


@providers_router.patch("/{provider_id}/status", response_model=ProviderRead)
async def update_provider(
    provider_id: str,
    body: ProviderSettingsUpdate,
    admin: AdminUser,
    db_session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> ProviderRead:
    """Superusers only: enable or disable, override the interval (null clears), set the
    failure threshold."""
    try:
        view = await service.update_settings(
            db_session=db_session,
            registry=registry,
            settings=settings,
            now=clock.now(),
            provider_id=provider_id,
            changes=body.model_dump(include=body.model_fields_set),
        )
    except service.ProviderNotFound:
        raise _not_found(provider_id) from None
    return ProviderRead.model_validate(view)


@providers_router.post("/{provider_id}/test", response_model=CheckResultRead)
async def test_provider(
    provider_id: str,
    user: CurrentUser,
    db_session: SessionDep,
    checker: CheckerDep,
    limiter: TestLimiterDep,
) -> CheckResultRead:
    """Run a check now and record it; concurrent requests for one provider share one check,
    across replicas too. Regular users may test one provider a few times a minute (429 with
    ``Retry-After`` beyond); admins are not limited."""
    # The check is network I/O: this request must not hold a pooled connection meanwhile (the
    # check records through its own short transactions).
    await db_session.close()
    if not user.is_superuser:
        retry_after = await limiter.hit(user_id=user.id, provider_id=provider_id)
        if retry_after:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"Too many tests of {provider_id!r}: try again in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )
    try:
        report = await checker.check(provider_id, trigger="manual")
    except UnknownProvider:
        raise _not_found(provider_id) from None
    result = report.result
    return CheckResultRead(
        provider_id=provider_id,
        is_success=result.ok,
        response_time=result.response_ms,
        error_message=result.error,
        error_kind=result.error_kind,
        http_status=result.http_status,
        stage=result.stage,
        status=report.status,
        timestamp=report.timestamp,
        **{f"uptime_{window}": value for window, value in (report.uptime or {}).items()},
    )


@providers_router.get("/{provider_id}/history", response_model=HistoryRead)
async def provider_history(
    provider_id: str,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    clock: ClockDep,
    window: Annotated[Window, Query(description="24h, 7d or 30d")] = "24h",
) -> HistoryRead:
    """Recent checks, hourly rollups (uptime, p50/p95 response time) and status changes."""
    try:
        found = await service.provider_history(
            db_session=db_session,
            provider_id=provider_id,
            window=window,
            now=clock.now(),
            registry=registry,
        )
    except service.ProviderNotFound:
        raise _not_found(provider_id) from None
    return HistoryRead.model_validate(found)


metrics_router = APIRouter(tags=["metrics"])


def _metrics_auth(request: Request, settings: SettingsDep) -> None:
    if settings.metrics_token is None:
        return
    expected = f"Bearer {settings.metrics_token.get_secret_value()}"
    sent = request.headers.get("authorization", "")
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Metrics require the bearer token KUROBARA_METRICS_TOKEN",
            headers={"WWW-Authenticate": "Bearer"},
        )


@metrics_router.get("/metrics", dependencies=[Depends(_metrics_auth)], include_in_schema=False)
async def prometheus_metrics(
    db_session: SessionDep, registry: RegistryDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    views = await service.list_providers(
        db_session=db_session, registry=registry, settings=settings, now=clock.now()
    )
    health = await notifications.notification_health(db_session=db_session)
    return Response(metrics.exposition(views, health), media_type=metrics.CONTENT_TYPE)
