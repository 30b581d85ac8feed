"""Web pages of account administration: the Users page (search, disable/enable, promote/demote,
reset a password, delete), the registration switch and invitation links; and the API tokens of
the Settings page. Each form calls the same service function as its API route."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from kurobara.db.deps import SessionDep
from kurobara.users import admin as user_admin
from kurobara.users import tokens as token_service
from kurobara.users.admin_routes import invitation_url
from kurobara.users.models import User
from kurobara.users.schemas import InvitationCreate, PasswordReset, TokenCreate
from kurobara.web.forms import field_errors
from kurobara.web.pages import redirect, render, url_path
from kurobara.web.routes import settings_page_for
from kurobara.web.session import CsrfChecked, SignedInUser, set_flash

router = APIRouter(include_in_schema=False)

FormStr = Annotated[str, Form()]
USER_ACTIONS = ("disable", "enable", "promote", "demote")


class NotAdmin(Exception):
    """A signed-in user who is not an admin opened an admin page; answered with a 403 page."""


async def page_admin(user: SignedInUser) -> User:
    if not user.is_superuser:
        raise NotAdmin
    return user


PageAdmin = Annotated[User, Depends(page_admin)]


async def not_admin_page(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", user=None, status_code=403, reason="admin")


async def _users_page(
    request: Request,
    admin: User,
    db_session: SessionDep,
    *,
    q: str = "",
    status_code: int = 200,
    **context: object,
) -> Response:
    found = await user_admin.list_users(db_session=db_session, search=q.strip() or None, limit=200)
    registration = await user_admin.registration_enabled(
        db_session=db_session, default=request.app.state.settings.registration_enabled
    )
    invitations = await user_admin.list_invitations(db_session=db_session)
    return render(
        request,
        "users.html",
        user=admin,
        status_code=status_code,
        users=found.items,
        total=found.total,
        q=q,
        registration=registration,
        invitations=invitations,
        **context,
    )


@router.get("/admin/users", name="web:users")
async def users_page(
    request: Request, admin: PageAdmin, db_session: SessionDep, q: str = ""
) -> Response:
    return await _users_page(request, admin, db_session, q=q[:100])


@router.post("/admin/users/{user_id}", name="web:user-action", dependencies=[CsrfChecked])
async def user_action(
    request: Request,
    user_id: uuid.UUID,
    admin: PageAdmin,
    db_session: SessionDep,
    action: FormStr = "",
) -> Response:
    try:
        if action == "delete":
            await user_admin.delete_user(db_session=db_session, user_id=user_id)
        elif action in USER_ACTIONS:
            await user_admin.update_user(
                db_session=db_session,
                user_id=user_id,
                is_active={"disable": False, "enable": True}.get(action),
                is_superuser={"promote": True, "demote": False}.get(action),
            )
        else:
            return await _users_page(
                request, admin, db_session, status_code=422, error="Choose an action."
            )
    except user_admin.AdminError as exc:
        code = 404 if isinstance(exc, user_admin.UserNotFound) else 409
        return await _users_page(
            request, admin, db_session, status_code=code, error=str(exc).capitalize() + "."
        )
    response = redirect(url_path(request, "web:users"))
    set_flash(request, response, f"user-{action}")
    return response


@router.post(
    "/admin/users/{user_id}/password", name="web:user-password", dependencies=[CsrfChecked]
)
async def user_password(
    request: Request,
    user_id: uuid.UUID,
    admin: PageAdmin,
    db_session: SessionDep,
    new_password: FormStr = "",
) -> Response:
    try:
        payload = PasswordReset(new_password=new_password)
        await user_admin.reset_password(
            db_session=db_session, user_id=user_id, password=payload.new_password
        )
    except ValidationError as exc:
        message = field_errors(exc, model_field="new_password").get("new_password", "Refused.")
        return await _users_page(
            request, admin, db_session, status_code=422, error=f"New password: {message}"
        )
    except user_admin.UserNotFound:
        return await _users_page(request, admin, db_session, status_code=404, error="No such user.")
    response = redirect(url_path(request, "web:users"))
    set_flash(request, response, "user-password")
    return response


@router.post("/admin/registration", name="web:registration", dependencies=[CsrfChecked])
async def registration(
    request: Request, admin: PageAdmin, db_session: SessionDep, enabled: FormStr = ""
) -> Response:
    await user_admin.set_registration(db_session=db_session, enabled=enabled == "on")
    response = redirect(url_path(request, "web:users"))
    set_flash(request, response, "registration-saved")
    return response


@router.post("/admin/invitations", name="web:invitations", dependencies=[CsrfChecked])
async def create_invitation(
    request: Request,
    admin: PageAdmin,
    db_session: SessionDep,
    days: FormStr = "7",
    note: FormStr = "",
) -> Response:
    try:
        payload = InvitationCreate(days=days, note=note or None)
    except ValidationError:
        return await _users_page(
            request, admin, db_session, status_code=422, error="Choose 1 to 30 days."
        )
    made = await user_admin.create_invitation(
        db_session=db_session, created_by=admin.id, days=payload.days, note=payload.note
    )
    # Shown on this answer only: the link's code is not stored.
    return await _users_page(
        request, admin, db_session, new_invitation=invitation_url(request, made.token)
    )


@router.post(
    "/admin/invitations/{invitation_id}/revoke",
    name="web:invitation-revoke",
    dependencies=[CsrfChecked],
)
async def revoke_invitation(
    request: Request, invitation_id: uuid.UUID, admin: PageAdmin, db_session: SessionDep
) -> Response:
    await user_admin.revoke_invitation(db_session=db_session, invitation_id=invitation_id)
    response = redirect(url_path(request, "web:users"))
    set_flash(request, response, "invitation-revoked")
    return response


@router.post("/settings/tokens", name="web:tokens", dependencies=[CsrfChecked])
async def create_token(
    request: Request,
    user: SignedInUser,
    db_session: SessionDep,
    name: FormStr = "",
    scope: FormStr = "read",
) -> Response:
    try:
        payload = TokenCreate(name=name, scope=scope)
        made = await token_service.create_token(
            db_session=db_session, user_id=user.id, name=payload.name, scope=payload.scope
        )
    except ValidationError as exc:
        errors = field_errors(exc, model_field="name")
        token_errors = {"token_" + key: value for key, value in errors.items()}
        return await settings_page_for(request, user, db_session, 422, errors=token_errors)
    except token_service.TooManyTokens as exc:
        errors = {"token_name": str(exc).capitalize() + "."}
        return await settings_page_for(request, user, db_session, 409, errors=errors)
    return await settings_page_for(request, user, db_session, 200, new_token=made.token)


@router.post(
    "/settings/tokens/{token_id}/revoke", name="web:token-revoke", dependencies=[CsrfChecked]
)
async def revoke_token(
    request: Request, token_id: uuid.UUID, user: SignedInUser, db_session: SessionDep
) -> Response:
    await token_service.revoke_token(db_session=db_session, user_id=user.id, token_id=token_id)
    response = redirect(url_path(request, "web:settings") + "#tokens-title")
    set_flash(request, response, "token-revoked")
    return response
