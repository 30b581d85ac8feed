"""Imports every ORM model so that ``Base.metadata`` knows the whole schema (Alembic, tests)."""

from kurobara.categories.models import Category
from kurobara.db.instance import InstanceSetting
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
    "Category",
    "ChapterProgress",
    "ChapterSync",
    "ImagePreferences",
    "ImportJob",
    "ImportJobItem",
    "InstanceSetting",
    "Invitation",
    "LibraryCounter",
    "LibraryEntry",
    "Manga",
    "MangaSource",
    "NotificationSettings",
    "PersonalToken",
    "ProviderCheck",
    "ProviderCheckHourly",
    "ProviderPause",
    "ProviderStatus",
    "ProviderTransition",
    "SourceUpdate",
    "StoredChapter",
    "UpdateItem",
    "UpdateNotification",
    "UpdateRun",
    "User",
]
