"""Migrations: an empty database goes to head and back to base, and the models agree with them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

import kurobara.models  # noqa: F401
from kurobara.db.base import Base
from kurobara.db.migrate import current_revision, downgrade, upgrade
from tests.conftest import POSTGRES_URL, require_service


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    require_service("PostgreSQL", bool(POSTGRES_URL), "set KUROBARA_TEST_POSTGRES_URL")
    assert POSTGRES_URL is not None
    name = f"kurobara_mig_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


async def test_upgrade_to_head_and_back_to_base(empty_db_url: str) -> None:
    await upgrade(empty_db_url)
    assert await current_revision(empty_db_url) is not None
    assert await _tables(empty_db_url) == set(Base.metadata.tables)
    await downgrade(empty_db_url)
    assert await _tables(empty_db_url) == set()
    await upgrade(empty_db_url)
    assert await _tables(empty_db_url) == set(Base.metadata.tables)


async def test_models_and_migrations_agree(empty_db_url: str) -> None:
    await upgrade(empty_db_url)
    engine = create_async_engine(empty_db_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
    await engine.dispose()
    assert diff == []


async def test_seed_columns_exist(empty_db_url: str) -> None:
    await upgrade(empty_db_url)
    engine = create_async_engine(empty_db_url)
    async with engine.connect() as conn:
        columns = await conn.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("provider_status")}
        )
        user_columns = await conn.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("users")}
        )
    await engine.dispose()
    seed = {
        "id", "created_at", "updated_at", "provider_id", "provider_name", "provider_url",
        "status", "last_check", "response_time", "error_message", "consecutive_failures",
        "total_checks", "successful_checks", "uptime_percentage", "is_enabled",
        "check_interval", "max_consecutive_failures",
    }  # fmt: skip
    assert seed <= columns
    assert "provider_check_interval" in user_columns
