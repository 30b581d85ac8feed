"""What ``kurobara demo`` runs beside the server: one fake site of each provider kind under a
hub that switches their faults, and the providers file that points Kurobara at them."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path

import yaml

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


def demo_sites() -> list[FakeSite]:
    """One fake site per kind, not yet started."""
    sites = []
    for target in DEMO_SITES.values():
        module_name, _, class_name = target.partition(":")
        site_class: type[FakeSite] = getattr(importlib.import_module(module_name), class_name)
        sites.append(site_class())
    return sites


def start_hub(*, host: str = "127.0.0.1", port: int = 0) -> FakeSiteHub:
    """Start every demo site on a free port, and the hub on ``port``."""
    hub = FakeSiteHub(demo_sites(), host=host, port=port)
    try:
        return hub.start()
    except BaseException:
        hub.stop()
        raise


def write_providers_file(
    directory: Path, sites: Iterable[FakeSite], *, check_interval: int | None = DEMO_CHECK_INTERVAL
) -> Path:
    """A providers file with the definitions of the (started) sites, in ``directory``."""
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
    body = yaml.safe_dump({"providers": definitions}, sort_keys=False)
    path.write_text(header + body, encoding="utf-8")
    return path
