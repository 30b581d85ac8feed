"""Web pages: login, registration, logout and settings. Each route parses the form, calls one
service function and renders or redirects; the layout's needs live in ``pages.render``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from kurobara.db.deps import SessionDep
from kurobara.monitoring import service as monitoring_service
from kurobara.updates import service as updates_service
from kurobara.users import admin as user_admin
from kurobara.users import service as user_service
from kurobara.users import tokens as token_service
from kurobara.users.models import User
from kurobara.users.routes import client_host, login_throttle
from kurobara.users.schemas import PasswordChange, UserCreate
from kurobara.web.forms import INTERVAL_LABELS, field_errors, parse_interval, retry_message
from kurobara.web.pages import home_url, redirect, render, static_url, url_path
from kurobara.web.session import (
    CsrfChecked,
    PageUser,
    SignedInUser,
    safe_next,
    set_flash,
    sign_in,
    sign_out,
)

router = APIRouter(include_in_schema=False)

FormStr = Annotated[str, Form()]


@router.get("/", name="web:home")
async def home(request: Request, user: PageUser) -> Response:
    return redirect(home_url(request, user))


@router.get("/favicon.ico", name="web:favicon")
async def favicon(request: Request) -> Response:
    # Browsers and feed readers ask for this path whatever the page links; the logo is an SVG.
    response = redirect(static_url(request, "img/logo.svg"))
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@router.get("/login", name="web:login")
async def login_page(
    request: Request, user: PageUser, db_session: SessionDep, next: str | None = None
) -> Response:
    if user is not None:
        return redirect(safe_next(next) or home_url(request, user))
    first_run = not await user_service.has_users(db_session=db_session)
    registration_open = await user_admin.registration_enabled(
        db_session=db_session, default=request.app.state.settings.registration_enabled
    )
    return render(
        request,
        "login.html",
        user=None,
        next=safe_next(next),
        username="",
        first_run=first_run,
        registration_open=registration_open,
    )


def _login_refused(
    request: Request, status_code: int, error: str, next_url: str, username: str
) -> Response:
    return render(
        request,
        "login.html",
        user=None,
        status_code=status_code,
        error=error,
        next=safe_next(next_url),
        username=username,
        registration_open=True,
    )


@router.post("/login", dependencies=[CsrfChecked])
async def login(
    request: Request,
    db_session: SessionDep,
    username: FormStr = "",
    password: FormStr = "",
    next: FormStr = "",
) -> Response:
    try:
        user = await user_service.login(
            db_session=db_session,
            throttle=login_throttle(request),
            username=username.strip(),
            password=password,
            client=client_host(request),
        )
    except user_service.LoginThrottled as exc:
        refused = _login_refused(request, 429, retry_message(exc.retry_after), next, username)
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    except user_service.InvalidCredentials:
        return _login_refused(request, 401, "Incorrect username or password.", next, username)
    response = redirect(safe_next(next) or home_url(request, user))
    sign_in(request, response, user)
    return response


async def _register_page(
    request: Request,
    db_session: SessionDep,
    *,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    invitation: str = "",
    invitation_error: str | None = None,
) -> Response:
    registration_open = await user_admin.registration_enabled(
        db_session=db_session, default=request.app.state.settings.registration_enabled
    )
    return render(
        request,
        "register.html",
        user=None,
        status_code=status_code,
        form=form or {},
        errors=errors or {},
        registration_open=registration_open,
        invitation=invitation[:200],
        invitation_error=invitation_error,
    )


@router.get("/register", name="web:register")
async def register_page(
    request: Request, user: PageUser, db_session: SessionDep, invitation: str = ""
) -> Response:
    if user is not None:
        return redirect(home_url(request, user))
    refused = None
    if invitation and not await user_admin.invitation_usable(
        db_session=db_session, token=invitation[:200]
    ):
        refused = str(user_admin.InvitationInvalid()).capitalize() + "."
        invitation = ""
    return await _register_page(
        request, db_session, invitation=invitation, invitation_error=refused
    )


@router.post("/register", dependencies=[CsrfChecked])
async def register(
    request: Request,
    db_session: SessionDep,
    username: FormStr = "",
    email: FormStr = "",
    password: FormStr = "",
    invitation: FormStr = "",
) -> Response:
    form = {"username": username, "email": email}
    try:
        payload = UserCreate(
            username=username, email=email, password=password, invitation=invitation or None
        )
        user = await user_admin.register(
            db_session=db_session,
            payload=payload,
            default_open=request.app.state.settings.registration_enabled,
        )
    except ValidationError as exc:
        errors = field_errors(exc, model_field="password")
        return await _register_page(
            request, db_session, status_code=422, form=form, errors=errors, invitation=invitation
        )
    except user_admin.RegistrationClosed:
        return await _register_page(request, db_session, status_code=403, form=form)
    except user_admin.InvitationInvalid as exc:
        refused = str(exc).capitalize() + "."
        return await _register_page(
            request, db_session, status_code=403, form=form, invitation_error=refused
        )
    except user_service.UserExists as exc:
        errors = {exc.field if exc.field in form else "username": str(exc).capitalize() + "."}
        return await _register_page(
            request, db_session, status_code=409, form=form, errors=errors, invitation=invitation
        )
    response = redirect(home_url(request, user))
    sign_in(request, response, user)
    set_flash(request, response, "welcome")
    return response


@router.post("/logout", name="web:logout", dependencies=[CsrfChecked])
async def logout(request: Request) -> Response:
    response = redirect(url_path(request, "web:login"))
    sign_out(request, response)
    set_flash(request, response, "logged-out")
    return response


def _settings_page(
    request: Request, user: User, *, status_code: int = 200, **context: object
) -> Response:
    return render(
        request,
        "settings.html",
        user=user,
        status_code=status_code,
        intervals=INTERVAL_LABELS,
        errors=context.pop("errors", {}),
        **context,
    )


@router.get("/settings", name="web:settings")
async def settings_page(request: Request, user: SignedInUser, db_session: SessionDep) -> Response:
    return await settings_page_for(request, user, db_session, 200)


async def settings_page_for(
    request: Request, user: User, db_session: SessionDep, status_code: int, **context: object
) -> Response:
    """The whole settings page (the API tokens forms answer with it, a new token shown once)."""
    # The other forms' error pages render without these; the page script then reads them.
    notifications = await updates_service.get_notifications(db_session=db_session, user_id=user.id)
    tokens = await token_service.list_tokens(db_session=db_session, user_id=user.id)
    return _settings_page(
        request,
        user,
        status_code=status_code,
        notifications=notifications,
        tokens=tokens,
        **context,
    )


@router.post("/settings/check-interval", name="web:settings-interval", dependencies=[CsrfChecked])
async def save_check_interval(
    request: Request, user: SignedInUser, db_session: SessionDep, interval: FormStr = ""
) -> Response:
    minutes = parse_interval(interval)
    if minutes is None:
        error = "Choose one of the listed intervals."
        return _settings_page(request, user, status_code=422, errors={"interval": error})
    await monitoring_service.set_user_interval(
        db_session=db_session,
        user=user,
        interval=minutes,
        settings=request.app.state.settings,
        now=request.app.state.clock.now(),
    )
    request.app.state.checker.forget_user_interval()
    response = redirect(url_path(request, "web:settings"))
    set_flash(request, response, "interval-saved")
    return response


@router.post("/settings/password", name="web:settings-password", dependencies=[CsrfChecked])
async def change_password(
    request: Request,
    user: SignedInUser,
    db_session: SessionDep,
    current_password: FormStr = "",
    new_password: FormStr = "",
    confirm_password: FormStr = "",
) -> Response:
    try:
        payload = PasswordChange(current_password=current_password, new_password=new_password)
        if new_password != confirm_password:
            errors = {"confirm_password": "The two new passwords differ."}
            return _settings_page(request, user, status_code=422, errors=errors)
        await user_service.change_password(
            db_session=db_session,
            user=user,
            current_password=payload.current_password,
            new_password=payload.new_password,
        )
    except ValidationError as exc:
        errors = field_errors(exc, model_field="new_password")
        return _settings_page(request, user, status_code=422, errors=errors)
    except user_service.WrongPassword:
        errors = {"current_password": "The current password is wrong."}
        return _settings_page(request, user, status_code=400, errors=errors)
    response = redirect(url_path(request, "web:settings"))
    # The new password hash invalidates every earlier token, this browser's too; re-issue it.
    sign_in(request, response, user)
    set_flash(request, response, "password-changed")
    return response
