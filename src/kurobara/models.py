"""Imports every ORM model so that ``Base.metadata`` knows the whole schema (Alembic, tests)."""

from kurobara.catalog.models import CatalogEnabled, CatalogIndex
from kurobara.categories.models import Category
from kurobara.db.instance import InstanceSetting
from kurobara.downloads.models import ChapterDownload, DownloadRequest, DownloadRule
from kurobara.failover.models import (
    MigrationCandidate,
    MigrationNeed,
    MigrationNotice,
    SourcePreference,
)
from kurobara.images.models import ImagePreferences
from kurobara.library.models import ImportJob, ImportJobItem, LibraryCounter, LibraryEntry
from kurobara.manga.models import Manga, MangaSource
from kurobara.monitoring.models import (
    ProviderCheck,
    ProviderCheckHourly,
    ProviderStatus,
    ProviderTransition,
)
from kurobara.reading.models import ChapterProgress, ChapterSync, StoredChapter
from kurobara.search.models import SearchPreferences
from kurobara.updates.models import (
    NotificationSettings,
    ProviderPause,
    SourceUpdate,
    UpdateItem,
    UpdateNotification,
    UpdateRun,
)
from kurobara.users.models import Invitation, PersonalToken, User

__all__ = [
    "CatalogEnabled",
    "CatalogIndex",
    "Category",
    "ChapterDownload",
    "ChapterProgress",
    "ChapterSync",
    "DownloadRequest",
    "DownloadRule",
    "ImagePreferences",
    "ImportJob",
    "ImportJobItem",
    "InstanceSetting",
    "Invitation",
    "LibraryCounter",
    "LibraryEntry",
    "Manga",
    "MangaSource",
    "MigrationCandidate",
    "MigrationNeed",
    "MigrationNotice",
    "NotificationSettings",
    "PersonalToken",
    "ProviderCheck",
    "ProviderCheckHourly",
    "ProviderPause",
    "ProviderStatus",
    "ProviderTransition",
    "SearchPreferences",
    "SourcePreference",
    "SourceUpdate",
    "StoredChapter",
    "UpdateItem",
    "UpdateNotification",
    "UpdateRun",
    "User",
]
