"""Settings, read from the environment (prefix ``KUROBARA_``) and an optional ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The only intervals a regular user may choose (minutes), from the seed.
USER_CHECK_INTERVALS: tuple[int, ...] = (30, 60, 120, 1440, 10080, 43200)
MAX_CHECK_INTERVAL = 43200


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KUROBARA_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Path("./data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default: SQLite file in data_dir"
    )
    secret_key: SecretStr | None = Field(
        default=None, description="JWT signing key; generated once and stored in the database"
    )
    redis_url: str | None = None

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    registration_enabled: bool = True
    access_token_minutes: int = Field(default=60 * 24 * 7, ge=1)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)

    admin_username: str | None = None
    admin_password: SecretStr | None = None
    admin_email: str | None = None

    # Provider registry
    builtin_providers: bool = True
    providers_file: Path | None = None
    http_user_agent: str = "Kurobara/0.1 (+self-hosted manga server)"

    # Monitoring defaults from the seed
    monitor_enabled: bool = True
    default_check_interval: int = Field(default=60, ge=1, le=MAX_CHECK_INTERVAL)
    max_consecutive_failures: int = Field(default=3, ge=1, le=100)
    check_timeout: float = Field(default=30.0, gt=0, le=600)
    check_concurrency: int = Field(default=5, ge=1, le=1000)
    retry_interval_seconds: int = Field(default=60, ge=1)
    # A down provider is skipped by search, so no search error brings its check forward: recheck
    # it at least this often (minutes) to notice a recovery soon.
    down_check_interval: int = Field(default=5, ge=1, le=MAX_CHECK_INTERVAL)
    check_jitter_seconds: int = Field(default=30, ge=0)
    history_retention_days: int = Field(default=7, ge=1)
    rollup_retention_days: int = Field(default=90, ge=1)
    search_timeout: float = Field(default=15.0, gt=0, le=120)
    # Age after which a chapter list is fetched again (per source, in chapter_sync: all replicas).
    chapter_cache_seconds: float = Field(default=300.0, ge=0, le=86400)

    # Library updates (docs/library.md): run beside the monitor, every N hours (an admin may
    # change it, 1..168), completed series skipped, bounded concurrency in total and per provider.
    library_updates_enabled: bool = True
    library_update_hours: int = Field(default=12, ge=1, le=168)
    library_update_skip_completed: bool = True
    library_update_concurrency: int = Field(default=8, ge=1, le=500)
    library_update_provider_concurrency: int = Field(default=2, ge=1, le=100)

    notify_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    notify_webhook: str | None = None
    metrics_token: SecretStr | None = None

    @field_validator("notify_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        # Apprise URLs contain commas rarely and spaces never; accept either as a separator.
        if isinstance(value, str):
            return [part for part in value.replace(",", " ").split() if part]
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'kurobara.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
