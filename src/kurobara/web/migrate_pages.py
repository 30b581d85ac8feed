"""The Migrate page: the caller's library entries whose every source died, each with its
candidate sources side by side, one button to accept a candidate and a batch form ("accept the
best match for all above score X"). Forms post to the same service functions the API uses
(``failover.proposals.accept`` / ``accept_best``); nothing migrates without a click."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from kurobara.db.deps import SessionDep
from kurobara.failover import proposals
from kurobara.failover.service import FailoverError
from kurobara.images.links import cover_link
from kurobara.monitoring.deps import ClockDep
from kurobara.providers.deps import RegistryDep
from kurobara.providers.errors import ProviderError
from kurobara.web.browse import with_image_origins
from kurobara.web.pages import redirect, render, url_path
from kurobara.web.session import CsrfChecked, SignedInUser, set_flash

router = APIRouter(include_in_schema=False)

FormStr = Annotated[str, Form()]
DEFAULT_MIN_SCORE = 90


async def _page(
    request: Request,
    user: SignedInUser,
    db_session: SessionDep,
    registry: RegistryDep,
    *,
    status_code: int = 200,
    error: str | None = None,
    min_score: str = str(DEFAULT_MIN_SCORE),
) -> Response:
    entries = await proposals.list_migrations(
        db_session=db_session, registry=registry, user_id=user.id
    )
    response = render(
        request,
        "migrate.html",
        user=user,
        entries=entries,
        error=error,
        min_score=min_score,
        candidate_cover=lambda c: cover_link(c.provider_id, c.cover_image, c.url),
        status_code=status_code,
    )
    return with_image_origins(response, registry)


@router.get("/migrate", name="web:migrate")
async def migrate_page(
    request: Request, user: SignedInUser, db_session: SessionDep, registry: RegistryDep
) -> Response:
    return await _page(request, user, db_session, registry)


@router.post("/migrate/{manga_id}/accept", name="web:migrate-accept", dependencies=[CsrfChecked])
async def accept_candidate(
    request: Request,
    manga_id: uuid.UUID,
    user: SignedInUser,
    db_session: SessionDep,
    registry: RegistryDep,
    clock: ClockDep,
    candidate_id: FormStr = "",
) -> Response:
    try:
        await proposals.accept(
            db_session=db_session,
            registry=registry,
            user_id=user.id,
            manga_id=manga_id,
            candidate_id=uuid.UUID(candidate_id),
            now=clock.now(),
        )
    except ValueError:
        return await _page(
            request, user, db_session, registry, status_code=422, error="Choose a candidate."
        )
    except (proposals.NotInLibrary, proposals.CandidateNotFound) as exc:
        return await _page(request, user, db_session, registry, status_code=404, error=f"{exc}.")
    except (FailoverError, ProviderError) as exc:
        await db_session.rollback()
        message = f"Not migrated: {exc}."
        return await _page(request, user, db_session, registry, status_code=409, error=message)
    response = redirect(url_path(request, "web:migrate"))
    set_flash(request, response, "migration-accepted")
    return response


@router.post("/migrate/accept-best", name="web:migrate-best", dependencies=[CsrfChecked])
async def accept_best(
    request: Request,
    user: SignedInUser,
    db_session: SessionDep,
    registry: RegistryDep,
    clock: ClockDep,
    min_score: FormStr = "",
) -> Response:
    try:
        score = float(min_score)
    except ValueError:
        score = -1.0
    if not 0 <= score <= 100:
        message = "The score is a number from 0 to 100."
        return await _page(
            request, user, db_session, registry, status_code=422, error=message, min_score=min_score
        )
    result = await proposals.accept_best(
        db_session=db_session, registry=registry, user_id=user.id, min_score=score, now=clock.now()
    )
    if result.failed:
        message = "; ".join(text for _, text in result.failed)
        return await _page(
            request, user, db_session, registry, status_code=409, error=f"Not migrated: {message}."
        )
    response = redirect(url_path(request, "web:migrate"))
    set_flash(request, response, "migrations-accepted" if result.accepted else "migrations-none")
    return response
