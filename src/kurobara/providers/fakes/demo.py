"""What ``kurobara demo`` runs beside the server: one fake site of each provider kind under a
hub that switches their faults, and the providers file that points Kurobara at them."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from kurobara.providers.fakes.catalog import SHARED_TITLES
from kurobara.providers.fakes.hub import FakeSiteHub
from kurobara.providers.fakes.server import FakeSite

# kind -> "module:Class" of its fake site, imported when the demo starts.
DEMO_SITES: dict[str, str] = {
    "mangadex": "kurobara.providers.fakes.mangadex:FakeMangaDexSite",
    "madara": "kurobara.providers.fakes.madara:FakeMadaraSite",
    "html": "kurobara.providers.fakes.html:FakeHtmlSite",
    "mangathemesia": "kurobara.providers.fakes.mangathemesia:FakeMangaThemesiaSite",
}
PROVIDERS_FILE = "demo-providers.yaml"
DEMO_CHECK_INTERVAL = 1  # minutes
# Local fake sites answer in milliseconds: a hanging one is given 10 s (not 30) and re-checked
# 20 s after a failure (not 60), so that with nobody searching a site switched to a fault is
# ``down`` within 3 minutes (interval + jitter + timeout + two retries; docs/search.md).
DEMO_CHECK_TIMEOUT = 10.0  # seconds
DEMO_RETRY_SECONDS = 20


def demo_settings() -> dict[str, object]:
    """The monitoring settings ``kurobara demo`` runs with."""
    return {"check_timeout": DEMO_CHECK_TIMEOUT, "retry_interval_seconds": DEMO_RETRY_SECONDS}


# The theme sites both carry the shared series, so a demo user can link two sources of one
# series and watch reading fall back when one site is switched down (docs/failover.md).
SHARED_KINDS = frozenset({"madara", "mangathemesia"})


def demo_sites() -> list[FakeSite]:
    """One fake site per kind, not yet started."""
    sites = []
    for kind, target in DEMO_SITES.items():
        module_name, _, class_name = target.partition(":")
        site_class: type[FakeSite] = getattr(importlib.import_module(module_name), class_name)
        sites.append(site_class(shared=SHARED_TITLES if kind in SHARED_KINDS else ()))
    return sites


def start_hub(*, host: str = "127.0.0.1", port: int = 0) -> FakeSiteHub:
    """Start every demo site on a free port, and the hub on ``port``."""
    hub = FakeSiteHub(demo_sites(), host=host, port=port)
    try:
        return hub.start()
    except BaseException:
        hub.stop()
        raise


def _probed(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with its canary search made a full probe (docs/providers.md), so that a
    site switched to a broken chapter list or pages turns ``down`` at that stage in the demo,
    as a reader would find it."""
    health = dict(definition.get("health") or {})
    query = health.pop("canary_query", None)
    if query is None:
        return definition
    return {**definition, "health": {**health, "probe": {"query": query}}}


def write_providers_file(
    directory: Path,
    sites: Iterable[FakeSite],
    *,
    check_interval: int | None = DEMO_CHECK_INTERVAL,
    full_probes: bool = True,
) -> Path:
    """A providers file with the definitions of the (started) sites, in ``directory``; their
    checks are full probes unless ``full_probes`` is false (then the sites' canary searches)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / PROVIDERS_FILE
    header = (
        "# Written by `kurobara demo` on each start: the local fake sites it runs, one per kind.\n"
        "# Their ports change from run to run, so edits here do not last.\n"
    )
    # Checked every minute (a real site would be checked hourly), so that a fault switched on
    # the hub shows on the Providers page within minutes.
    seed = {} if check_interval is None else {"check_interval": check_interval}
    definitions = [{**site.definition(), **seed} for site in sites]
    if full_probes:
        definitions = [_probed(definition) for definition in definitions]
    body = yaml.safe_dump({"providers": definitions}, sort_keys=False)
    path.write_text(header + body, encoding="utf-8")
    return path
