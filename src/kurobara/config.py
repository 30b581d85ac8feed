"""Settings, read from the environment (prefix ``KUROBARA_``) and an optional ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The only intervals a regular user may choose (minutes), from the seed.
USER_CHECK_INTERVALS: tuple[int, ...] = (30, 60, 120, 1440, 10080, 43200)
MAX_CHECK_INTERVAL = 43200

# OWASP's minimum argon2id cost (Password Storage Cheat Sheet): 19 MiB, 2 passes, 1 lane.
# The defaults are argon2-cffi's (RFC 9106's low-memory profile: 64 MiB, 3 passes, 4 lanes).
MIN_PASSWORD_HASH_MEMORY_KIB = 19 * 1024
MIN_PASSWORD_HASH_TIME_COST = 2


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
    # The server's database connection pool: connections kept open and how many more load may
    # open (unset: 10 and 20 on PostgreSQL, SQLAlchemy's 5 and 10 on a SQLite file), and how
    # long a request waits for one before it is answered 503 (the server is busy).
    database_pool_size: int | None = Field(default=None, ge=1, le=1000)
    database_max_overflow: int | None = Field(default=None, ge=0, le=1000)
    database_pool_timeout: float = Field(default=30.0, gt=0, le=600)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Worker processes of ``kurobara serve`` (docs/workers.md): each answers requests and runs
    # the background jobs, which they share through the database as replicas do.
    workers: int = Field(default=1, ge=1, le=64)
    registration_enabled: bool = True
    access_token_minutes: int = Field(default=60 * 24 * 7, ge=1)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    # How long a process may answer a JWT from its cached user row (users/cache.py); changes
    # made in this process apply at once, those made by another process within this time.
    auth_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    # The cost of hashing new passwords; a stored hash keeps verifying with the costs it was made
    # with (argon2 writes them into the hash) and is re-hashed at its owner's next login.
    password_hash_time_cost: int = Field(default=3, ge=MIN_PASSWORD_HASH_TIME_COST, le=1000)
    password_hash_memory_kib: int = Field(
        default=64 * 1024, ge=MIN_PASSWORD_HASH_MEMORY_KIB, le=4 * 1024 * 1024
    )
    password_hash_parallelism: int = Field(default=4, ge=1, le=255)

    admin_username: str | None = None
    admin_password: SecretStr | None = None
    admin_email: str | None = None

    # Provider registry
    builtin_providers: bool = True
    providers_file: Path | None = None
    http_user_agent: str = "Kurobara/0.1 (+self-hosted manga server)"
    # Caps on what one response from a source site may weigh (bytes, after decompression): an
    # HTML page or JSON document, and one image. Past the cap the read stops: ``too_large``.
    http_max_page_bytes: int = Field(default=16 * 1024 * 1024, ge=64 * 1024, le=1024**3)
    http_max_image_bytes: int = Field(default=32 * 1024 * 1024, ge=64 * 1024, le=1024**3)
    # The longest a 429's Retry-After may pause a provider's requests (seconds).
    http_max_retry_after: float = Field(default=300.0, ge=0, le=86400)
    # A FlareSolverr (``POST /v1``) that passes Cloudflare-style challenges for the providers;
    # none by default (docs/providers.md).
    flaresolverr_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")

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
    # A search waits on each provider its recent p95 x this factor, at least the floor (seconds)
    # and at most ``search_timeout`` (docs/search.md).
    search_deadline_factor: float = Field(default=3.0, ge=1, le=100)
    search_deadline_floor: float = Field(default=2.0, gt=0, le=120)
    # Age after which a chapter list is fetched again (per source, in chapter_sync: all replicas).
    chapter_cache_seconds: float = Field(default=300.0, ge=0, le=86400)

    # Request hardening: body limits (bytes) and the proxies whose X-Forwarded-* are believed.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    import_max_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Favorites import (docs/library.md): an import needing at most this many provider fetches
    # answers within its request; more become a background job.
    favorites_import_inline_max: int = Field(default=10, ge=0, le=1000)
    # Provider fetches an import runs at once per provider (its rate limit still spaces them).
    favorites_import_concurrency: int = Field(default=4, ge=1, le=50)
    # Work off queued import jobs in this process (a replica may leave them to the others).
    favorites_import_worker: bool = True
    # "Test now" per user and provider (admins exempt): at most this many per window.
    manual_test_limit: int = Field(default=3, ge=1, le=1000)
    manual_test_window_seconds: int = Field(default=60, ge=1, le=86400)
    # Names this replica in check leases; default: an id stored once in data_dir/replica-id.
    replica_id: str | None = Field(default=None, max_length=40)
    # Library updates (docs/library.md): run beside the monitor, every N hours (an admin may
    # change it, 1..168), completed series skipped, bounded concurrency in total and per provider.
    library_updates_enabled: bool = True
    library_update_hours: int = Field(default=12, ge=1, le=168)
    library_update_skip_completed: bool = True
    library_update_concurrency: int = Field(default=8, ge=1, le=500)
    library_update_provider_concurrency: int = Field(default=2, ge=1, le=100)

    # Scheduled backup (docs/backup.md): every N hours (0: off) a SQLite online backup into
    # data_dir/backups, the newest ``backup_keep`` kept (0: all). PostgreSQL: pg_dump instead.
    backup_interval_hours: float = Field(default=0, ge=0, le=24 * 366)
    backup_keep: int = Field(default=7, ge=0, le=100_000)
    # Failover (docs/failover.md): a provider down this long (hours) has its series' other
    # sources searched for and proposed on the Migrate page; how often the scout looks (s),
    # and how long candidates found for a manga stand before it searches again (hours).
    migration_after_hours: float = Field(default=48.0, gt=0, le=24 * 365)
    migration_scan_seconds: float = Field(default=300.0, ge=1, le=86400)
    migration_rescan_hours: float = Field(default=24.0, gt=0, le=24 * 365)
    migration_scout_enabled: bool = True
    # The address users reach this server at, for links in notifications; default host:port.
    public_url: str | None = Field(default=None, max_length=500)

    # Image proxy (docs/images.md): the disk cache's bound in MiB (fractions allowed).
    image_cache_mb: float = Field(default=1024, gt=0, le=1024 * 1024)
    # Local archives (docs/local.md): the largest CBZ/ZIP upload, and what it may unpack to.
    upload_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1024, le=16 * 1024**3)
    upload_max_unpacked_bytes: int = Field(default=1024**3, ge=1024, le=64 * 1024**3)
    # Downloads (docs/downloads.md): the Downloader runs in every replica unless switched off;
    # chapters fetched at once, failures before a chapter is ``failed``, the lease a replica
    # holds on a chapter (renewed at every page; a dead replica's chapters resume after it).
    downloads_worker: bool = True
    download_concurrency: int = Field(default=2, ge=1, le=100)
    download_max_attempts: int = Field(default=3, ge=1, le=100)
    download_lease_seconds: float = Field(default=120.0, ge=5, le=3600)

    # The provider catalog (docs/catalog.md): the bundled list of theme sites, and community
    # index URLs (JSON or YAML in the definition format, space- or comma-separated) fetched
    # every ``catalog_refresh_hours``. Catalog entries are providers only once an admin enables
    # them; replicas pick up each other's choices within ``catalog_sync_seconds``.
    catalog_bundled: bool = True
    catalog_urls: Annotated[list[str], NoDecode] = Field(default_factory=list, max_length=20)
    catalog_refresh_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    catalog_sync_seconds: float = Field(default=30.0, ge=1, le=3600)

    notify_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    notify_webhook: str | None = None
    metrics_token: SecretStr | None = None

    @field_validator("catalog_urls", mode="before")
    @classmethod
    def _split_catalog_urls(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.replace(",", " ").split() if part]
        if isinstance(value, list):
            for url in value:
                if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
                    raise ValueError(f"catalog URL {url!r} is not an http:// or https:// URL")
        return value

    @field_validator("notify_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        # Apprise URLs contain commas rarely and spaces never; accept either as a separator.
        if isinstance(value, str):
            return [part for part in value.replace(",", " ").split() if part]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        # "10.0.0.1, 10.0.0.0/8" as uvicorn's --forwarded-allow-ips writes it.
        if isinstance(value, str):
            return [part for part in value.replace(",", " ").split() if part]
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'kurobara.db').as_posix()}"

    def database_pool(self) -> dict[str, Any]:
        """The pool options of the server's engine (``Database(url, **options)``)."""
        options: dict[str, Any] = {"pool_timeout": self.database_pool_timeout}
        if self.database_pool_size is not None:
            options["pool_size"] = self.database_pool_size
        if self.database_max_overflow is not None:
            options["max_overflow"] = self.database_max_overflow
        return options

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
