"""The monitoring service, the surface other domains and the routes call. Each concept lives in
its own module:

- ``registry_sync``: provider rows kept in step with the registry;
- ``views``: what the endpoints and pages read (provider views, recent checks, history, what
  search skips);
- ``admin``: the writes people make (an admin's provider settings, a user's interval);
- ``statistics``: the summary numbers.

The scheduler's claim/record side lives in ``claims.py``.
"""

from __future__ import annotations

from kurobara.monitoring.admin import set_user_interval, update_settings
from kurobara.monitoring.models import ProviderStatus as PS
from kurobara.monitoring.registry_sync import SyncReport, sync_registry
from kurobara.monitoring.statistics import ProviderSpeed, Statistics, statistics
from kurobara.monitoring.views import (
    ProviderNotFound,
    ProviderView,
    get_provider,
    get_row,
    list_providers,
    provider_history,
    recent_checks,
    search_skips,
)

__all__ = [
    "PS",
    "ProviderNotFound",
    "ProviderSpeed",
    "ProviderView",
    "Statistics",
    "SyncReport",
    "get_provider",
    "get_row",
    "list_providers",
    "provider_history",
    "recent_checks",
    "search_skips",
    "set_user_interval",
    "statistics",
    "sync_registry",
    "update_settings",
]
