"""HTTP routes for accounts: register, login, the current user, password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from kurobara.db.deps import SessionDep
from kurobara.users import admin as user_admin
from kurobara.users import service as user_service
from kurobara.users.deps import CurrentUser, secret_key, too_many_attempts
from kurobara.users.schemas import PasswordChange, Token, UserCreate, UserRead
from kurobara.users.security import create_access_token
from kurobara.users.throttle import LoginThrottle

auth_router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])


def login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def client_host(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@auth_router.post("/register", response_model=UserRead, status_code=status.HTTP_201_CREATED)
async def register(payload: UserCreate, request: Request, db_session: SessionDep) -> object:
    """Create an account: open while registration is on (the admin's switch, else
    ``KUROBARA_REGISTRATION_ENABLED``); while it is off, only with an ``invitation`` code."""
    try:
        return await user_admin.register(
            db_session=db_session,
            payload=payload,
            default_open=request.app.state.settings.registration_enabled,
        )
    except user_admin.RegistrationClosed as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from exc
    except user_admin.InvitationInvalid as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from exc
    except user_service.UserExists as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc


@auth_router.post("/login", response_model=Token)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    db_session: SessionDep,
    throttle: Annotated[LoginThrottle, Depends(login_throttle)],
) -> Token:
    try:
        user = await user_service.login(
            db_session=db_session,
            throttle=throttle,
            username=form.username,
            password=form.password,
            client=client_host(request),
        )
    except user_service.LoginThrottled as exc:
        raise too_many_attempts(exc) from exc
    except user_service.InvalidCredentials as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}
        ) from exc
    token = create_access_token(
        user_id=user.id,
        hashed_password=user.hashed_password,
        secret=secret_key(request),
        minutes=request.app.state.settings.access_token_minutes,
    )
    return Token(access_token=token)


@users_router.get("/me", response_model=UserRead)
async def read_me(user: CurrentUser) -> object:
    return user


@users_router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    payload: PasswordChange, user: CurrentUser, db_session: SessionDep
) -> None:
    try:
        await user_service.change_password(
            db_session=db_session,
            user=user,
            current_password=payload.current_password,
            new_password=payload.new_password,
        )
    except user_service.WrongPassword as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc
