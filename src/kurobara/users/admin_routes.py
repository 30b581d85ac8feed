"""HTTP routes of user management (admins), the registration switch, invitations and the
caller's personal access tokens. Thin: parse, authorize, call one service function."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from kurobara.db.deps import SessionDep
from kurobara.users import admin as user_admin
from kurobara.users import tokens as token_service
from kurobara.users.deps import AdminUser, CurrentUser
from kurobara.users.schemas import (
    InvitationCreate,
    InvitationCreated,
    InvitationRead,
    PasswordReset,
    RegistrationState,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserRead,
    UserUpdate,
)

TOTAL_HEADER = "X-Total-Count"

admin_users_router = APIRouter(prefix="/users", tags=["users"])
registration_router = APIRouter(prefix="/registration", tags=["users"])
invitations_router = APIRouter(prefix="/invitations", tags=["users"])
tokens_router = APIRouter(prefix="/tokens", tags=["tokens"])


def _refused(exc: user_admin.AdminError) -> HTTPException:
    if isinstance(exc, user_admin.UserNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, detail="User not found")
    return HTTPException(status.HTTP_409_CONFLICT, detail={"kind": exc.kind, "message": str(exc)})


@admin_users_router.get("", response_model=list[UserRead])
async def list_users(
    _admin: AdminUser,
    db_session: SessionDep,
    response: Response,
    q: Annotated[str | None, Query(max_length=100, description="Part of a name or email")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> object:
    """Every account by username (admins only); the total that match in ``X-Total-Count``."""
    found = await user_admin.list_users(db_session=db_session, search=q, page=page, limit=limit)
    response.headers[TOTAL_HEADER] = str(found.total)
    return found.items


@admin_users_router.patch("/{user_id}", response_model=UserRead)
async def update_user(
    user_id: uuid.UUID, payload: UserUpdate, _admin: AdminUser, db_session: SessionDep
) -> object:
    """Disable/enable (``is_active``) or promote/demote (``is_superuser``). A disabled user's
    JWTs, cookie and personal tokens stop working at once; the last active admin stays (409)."""
    try:
        return await user_admin.update_user(
            db_session=db_session,
            user_id=user_id,
            is_active=payload.is_active,
            is_superuser=payload.is_superuser,
        )
    except user_admin.AdminError as exc:
        raise _refused(exc) from exc


@admin_users_router.post("/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
async def reset_password(
    user_id: uuid.UUID, payload: PasswordReset, _admin: AdminUser, db_session: SessionDep
) -> None:
    """Set a new password; the user's sessions sign out."""
    try:
        await user_admin.reset_password(
            db_session=db_session, user_id=user_id, password=payload.new_password
        )
    except user_admin.AdminError as exc:
        raise _refused(exc) from exc


@admin_users_router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(user_id: uuid.UUID, _admin: AdminUser, db_session: SessionDep) -> None:
    """Delete the account with its library, favorites, progress, history and tokens."""
    try:
        await user_admin.delete_user(db_session=db_session, user_id=user_id)
    except user_admin.AdminError as exc:
        raise _refused(exc) from exc


@registration_router.get("", response_model=RegistrationState)
async def read_registration(request: Request, db_session: SessionDep) -> RegistrationState:
    """Whether anyone may create an account (public: the sign-up page asks it too)."""
    enabled = await user_admin.registration_enabled(
        db_session=db_session, default=request.app.state.settings.registration_enabled
    )
    return RegistrationState(enabled=enabled)


@registration_router.put("", response_model=RegistrationState)
async def set_registration(
    payload: RegistrationState, _admin: AdminUser, db_session: SessionDep
) -> RegistrationState:
    """Switch registration on or off; overrides ``KUROBARA_REGISTRATION_ENABLED``."""
    enabled = await user_admin.set_registration(db_session=db_session, enabled=payload.enabled)
    return RegistrationState(enabled=enabled)


def invitation_url(request: Request, code: str) -> str:
    return str(request.url_for("web:register").include_query_params(invitation=code))


@invitations_router.post("", response_model=InvitationCreated, status_code=201)
async def create_invitation(
    payload: InvitationCreate, request: Request, admin: AdminUser, db_session: SessionDep
) -> InvitationCreated:
    """A one-use sign-up link, valid ``days`` days; the code is shown only in this answer."""
    made = await user_admin.create_invitation(
        db_session=db_session, created_by=admin.id, days=payload.days, note=payload.note
    )
    read = InvitationRead.model_validate(made.invitation)
    return InvitationCreated(
        **read.model_dump(), code=made.token, url=invitation_url(request, made.token)
    )


@invitations_router.get("", response_model=list[InvitationRead])
async def list_invitations(_admin: AdminUser, db_session: SessionDep) -> object:
    return await user_admin.list_invitations(db_session=db_session)


@invitations_router.delete("/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_invitation(
    invitation_id: uuid.UUID, _admin: AdminUser, db_session: SessionDep
) -> None:
    if not await user_admin.revoke_invitation(db_session=db_session, invitation_id=invitation_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Invitation not found")


@tokens_router.get("", response_model=list[TokenRead])
async def list_tokens(user: CurrentUser, db_session: SessionDep) -> object:
    """The caller's personal access tokens (never their secrets)."""
    return await token_service.list_tokens(db_session=db_session, user_id=user.id)


@tokens_router.post("", response_model=TokenCreated, status_code=201)
async def create_token(
    payload: TokenCreate, user: CurrentUser, db_session: SessionDep
) -> TokenCreated:
    """A token for a script or an app, sent as ``Authorization: Bearer kbt_…`` (or as the
    password of HTTP Basic for OPDS). ``read`` tokens may only read. Shown only in this answer."""
    try:
        made = await token_service.create_token(
            db_session=db_session, user_id=user.id, name=payload.name, scope=payload.scope
        )
    except token_service.TooManyTokens as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return TokenCreated(**TokenRead.model_validate(made.record).model_dump(), token=made.token)


@tokens_router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(token_id: uuid.UUID, user: CurrentUser, db_session: SessionDep) -> None:
    """Revoke one of the caller's tokens; it stops working at once."""
    if not await token_service.revoke_token(
        db_session=db_session, user_id=user.id, token_id=token_id
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Token not found")
