"""Request and response shapes for accounts and auth."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]

# Refused outright: the passwords every credential-stuffing list starts with.
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "12345678",
        "123456789",
        "1234567890",
        "qwertyuiop",
        "qwerty123",
        "iloveyou",
        "11111111",
        "00000000",
        "abcdefgh",
        "abc12345",
        "letmein1",
        "welcome1",
        "passw0rd",
        "admin123",
        "administrator",
        "kurobara",
        "sunshine",
        "football",
        "baseball",
    }
)


def check_password_strength(password: str, username: str | None = None) -> str:
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        raise ValueError("password is too common")
    if username and lowered == username.lower():
        raise ValueError("password must differ from the username")
    if len(set(password)) < 4:
        raise ValueError("password needs at least 4 different characters")
    return password


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    email: EmailStr
    password: Password
    invitation: str | None = Field(
        default=None,
        max_length=200,
        description="The code of an invitation link; lets one account in while registration is off",
    )

    @model_validator(mode="after")
    def _strong_password(self) -> UserCreate:
        check_password_strength(self.password, self.username)
        return self


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    new_password: Password

    @model_validator(mode="after")
    def _strong_password(self) -> PasswordChange:
        check_password_strength(self.new_password)
        return self


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    email: str
    is_active: bool
    is_superuser: bool
    provider_check_interval: int
    created_at: datetime


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class CheckIntervalUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval: int = Field(description="Minutes: one of 30, 60, 120, 1440, 10080, 43200")


class UserUpdate(BaseModel):
    """An admin's change to an account; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    is_active: bool | None = None
    is_superuser: bool | None = None


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_password: Password

    @model_validator(mode="after")
    def _strong_password(self) -> PasswordReset:
        check_password_strength(self.new_password)
        return self


class RegistrationState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=7, ge=1, le=30, description="Days until the link expires")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    note: str | None
    created_by: uuid.UUID | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: uuid.UUID | None


class InvitationCreated(InvitationRead):
    code: str = Field(description="Shown once; only its hash is stored")
    url: str


TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TokenName
    scope: Literal["read", "write"] = "read"


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    scope: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="Shown once; only its hash is stored")
