"""Request and response bodies of ``/api/v1/providers``: the seed's ProviderStatus and what we
add to it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from kurobara.config import MAX_CHECK_INTERVAL, USER_CHECK_INTERVALS
from kurobara.providers.wording import in_words

Status = Literal["unknown", "testing", "active", "down"]
Window = Literal["24h", "7d", "30d"]


class ProviderStatusRead(BaseModel):
    """The seed's ProviderStatus, plus the classified error of the last failed check."""

    model_config = ConfigDict(from_attributes=True)

    provider_id: str
    provider_name: str
    provider_url: str
    status: Status
    last_check: datetime | None
    response_time: int | None = Field(description="Milliseconds, last successful check")
    consecutive_failures: int
    total_checks: int
    successful_checks: int
    uptime_percentage: int = Field(ge=0, le=100)
    is_enabled: bool
    check_interval: int = Field(description="Effective minutes between checks")
    check_interval_override: int | None = Field(
        description="The admin's per-provider interval; null when user preferences decide"
    )
    max_consecutive_failures: int
    error_message: str | None
    error_kind: str | None
    http_status: int | None
    stage: str | None = Field(
        description="Where the last failed check failed: health, search, details, chapters, "
        "pages or image; null when it passed"
    )
    status_changed_at: datetime | None
    next_check_at: datetime | None

    @computed_field(description="The error in plain words (error_message keeps the raw text)")  # type: ignore[prop-decorator]
    @property
    def error_words(self) -> str | None:
        return in_words(self.error_kind, self.error_message, self.http_status)


class ProviderRead(ProviderStatusRead):
    """One registered provider as ``GET /providers/`` lists it."""

    kind: str | None
    nsfw: bool
    language: str | None
    is_healthy: bool
    effective_check_interval: int
    uptime_24h: float | None
    uptime_7d: float | None
    uptime_30d: float | None


class ProviderSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_enabled: bool | None = None
    check_interval: int | None = Field(
        default=None,
        ge=1,
        le=MAX_CHECK_INTERVAL,
        description="Minutes (1..43200); null clears the override",
    )
    max_consecutive_failures: int | None = Field(default=None, ge=1, le=100)

    @model_validator(mode="after")
    def _no_null_flags(self) -> ProviderSettingsUpdate:
        for name in ("is_enabled", "max_consecutive_failures"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if not self.model_fields_set:
            raise ValueError(
                "nothing to change: give is_enabled, check_interval or max_consecutive_failures"
            )
        return self


class CheckResultRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    provider_id: str
    is_success: bool
    response_time: int | None
    error_message: str | None
    error_kind: str | None
    http_status: int | None
    stage: str | None = None
    status: Status | None
    timestamp: datetime
    uptime_24h: float | None = None
    uptime_7d: float | None = None
    uptime_30d: float | None = None

    @computed_field(description="The error in plain words (error_message keeps the raw text)")  # type: ignore[prop-decorator]
    @property
    def error_words(self) -> str | None:
        return in_words(self.error_kind, self.error_message, self.http_status)


class CheckIntervalUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval: int = Field(description="Minutes: one of 30, 60, 120, 1440, 10080, 43200")

    @field_validator("interval")
    @classmethod
    def _allowed(cls, value: int) -> int:
        if value not in USER_CHECK_INTERVALS:
            allowed = ", ".join(map(str, USER_CHECK_INTERVALS))
            raise ValueError(f"interval must be one of {allowed} (minutes)")
        return value


class CheckIntervalRead(BaseModel):
    interval: int
    effective_check_interval: int = Field(
        description="Minutes between checks of providers without an admin override"
    )


class ProviderSpeedRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    provider_id: str
    provider_name: str
    response_time: int


class StatisticsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    total: int
    by_status: dict[str, int]
    enabled: int
    disabled: int
    healthy: int
    average_uptime: float | None = Field(description="Mean of the providers' uptime_percentage")
    average_uptime_24h: float | None
    fastest: ProviderSpeedRead | None
    slowest: ProviderSpeedRead | None
    checks_last_24h: int
    failed_checks_last_24h: int
    generated_at: datetime


class CheckRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    checked_at: datetime
    ok: bool
    response_time: int | None
    error_kind: str | None
    http_status: int | None
    error_message: str | None
    stage: str | None
    trigger: str

    @computed_field(description="The error in plain words (error_message keeps the raw text)")  # type: ignore[prop-decorator]
    @property
    def error_words(self) -> str | None:
        return in_words(self.error_kind, self.error_message, self.http_status)


class HourRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    hour: datetime
    checks: int
    successes: int
    uptime_percentage: float | None
    avg_response_time: int | None
    p50_response_time: int | None
    p95_response_time: int | None


class TransitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str
    to_status: str
    at: datetime
    error_kind: str | None
    error_message: str | None
    notified_at: datetime | None

    @computed_field(description="The error in plain words (error_message keeps the raw text)")  # type: ignore[prop-decorator]
    @property
    def error_words(self) -> str | None:
        return in_words(self.error_kind, self.error_message)


class HistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    provider_id: str
    window: Window
    uptime_percentage: float | None
    total_checks: int
    p50_response_time: int | None
    p95_response_time: int | None
    checks: list[CheckRead]
    hours: list[HourRead]
    transitions: list[TransitionRead]
