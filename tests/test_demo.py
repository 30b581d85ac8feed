"""`kurobara demo` as a new user runs it: a subprocess with one fake site of each provider kind.
A search for a common letter finds titles on every fake provider, an imported manga has a title,
description, cover and chapters, and each fault switched on the hub is its error kind in the
search outcome within the timeout."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kurobara.providers.fakes.demo import DEMO_SITES
from tests.conftest import TLS
from tests.web.forkserver import FORKS

SEARCH_TIMEOUT = 3
FAULT_KINDS = {
    "down": "connect",
    "slow": "timeout",
    "error": "http_status",
    "challenge": "bot_challenge",
    "layout": "parse",
    "ratelimit": "rate_limited",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Demo:
    app: str
    hub: str
    data_dir: Path


@pytest.fixture
def demo(db_url: str, tmp_path: Path) -> Iterator[Demo]:
    port, hub_port = free_port(), free_port()
    env = {
        **os.environ,
        "KUROBARA_DATABASE_URL": db_url,
        # The demo turns the real sites off itself, even when the environment turns them on.
        "KUROBARA_BUILTIN_PROVIDERS": "true",
        "KUROBARA_SEARCH_TIMEOUT": str(SEARCH_TIMEOUT),
        # Search outcomes here are the sites' own; no monitor deciding a provider is down.
        "KUROBARA_MONITOR_ENABLED": "false",
    }
    data_dir = tmp_path / "demo"
    log_path = tmp_path / "demo.log"
    argv = ["demo", "--port", str(port), "--hub-port", str(hub_port), "--data-dir", str(data_dir)]
    # `kurobara demo` in a process of its own, forked from one that has already imported it.
    proc = FORKS.start(argv, env, tmp_path, log_path)
    try:
        app = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "demo did not start:\n" + log_path.read_text()
            try:
                if httpx.get(f"{app}/healthz", timeout=1, verify=TLS).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield Demo(app=app, hub=f"http://127.0.0.1:{hub_port}", data_dir=data_dir)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    output = log_path.read_text()
    assert app in output
    assert f"http://127.0.0.1:{hub_port}/" in output
    assert "register" in output  # how to log in


@contextmanager
def signed_in(base: str) -> Iterator[httpx.Client]:
    """A client with the bearer token of a freshly registered account."""
    with httpx.Client(base_url=base, timeout=SEARCH_TIMEOUT + 10, verify=TLS) as client:
        creds = {"username": "dana", "email": "dana@example.org", "password": "a-long-passphrase"}
        assert client.post("/api/v1/auth/register", json=creds).status_code == 201
        login = client.post(
            "/api/v1/auth/login", data={"username": "dana", "password": creds["password"]}
        )
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        yield client


def test_demo_serves_working_providers_of_every_kind(demo: Demo) -> None:
    sites = httpx.get(f"{demo.hub}/sites", verify=TLS).json()
    assert sorted(site["kind"] for site in sites) == sorted(DEMO_SITES)
    assert (demo.data_dir / "demo-providers.yaml").exists()
    with signed_in(demo.app) as client:
        body = client.get("/api/v1/search", params={"q": "a"}).json()
        outcomes = {o["provider_id"]: o for o in body["providers"]}
        assert set(outcomes) == {site["name"] for site in sites}
        for outcome in outcomes.values():
            assert outcome["status"] == "ok", outcome
            assert outcome["count"] > 0, outcome
        first_of = {}
        for result in body["results"]:
            first_of.setdefault(result["provider_id"], result)
        for provider_id, result in first_of.items():
            imported = client.post(
                "/api/v1/manga/import",
                json={"provider_id": provider_id, "external_id": result["external_id"]},
            )
            assert imported.status_code == 201, imported.text
            manga = imported.json()
            assert manga["title"] == result["title"]
            assert manga["description"], provider_id
            cover = httpx.get(manga["cover_image"], timeout=5, verify=TLS)
            assert cover.status_code == 200, provider_id
            chapters = client.get(f"/api/v1/manga/{manga['id']}/chapters")
            assert chapters.status_code == 200, chapters.text
            assert chapters.json()["chapters"], provider_id


def test_each_fault_switch_is_its_error_kind_in_the_search(demo: Demo) -> None:
    names = [site["name"] for site in httpx.get(f"{demo.hub}/sites", verify=TLS).json()]
    with signed_in(demo.app) as client:
        for index, (fault, kind) in enumerate(FAULT_KINDS.items()):
            name = names[index % len(names)]
            switched = httpx.post(
                f"{demo.hub}/sites/{name}/fault", json={"fault": fault}, verify=TLS
            )
            assert switched.status_code == 200, switched.text
            response = client.get("/api/v1/search", params={"q": "a"})
            httpx.post(f"{demo.hub}/sites/{name}/fault", json={"fault": "ok"}, verify=TLS)
            assert response.status_code == 200, response.text
            outcome = next(o for o in response.json()["providers"] if o["provider_id"] == name)
            if fault == "slow" and outcome["status"] == "slow":
                # Its learned deadline (shorter than the timeout) was missed: reported as slow.
                assert outcome["deadline_ms"], outcome
            else:
                assert (outcome["status"], outcome["kind"]) == ("error", kind), (fault, outcome)
            # Given up at the timeout, not waited out (a slow site answers after 60 s); the
            # server's own measure, and only that far apart: the machine may be loaded.
            assert response.json()["ms"] < SEARCH_TIMEOUT * 1000 * 4, (fault, response.json())


def test_a_broken_chapter_list_fails_the_check_at_that_stage(demo: Demo) -> None:
    """The demo's checks are full probes: a site still up whose chapter list broke is a
    failure at ``chapters``, and works again once its chapters are back."""
    madara = next(
        s for s in httpx.get(f"{demo.hub}/sites", verify=TLS).json() if s["kind"] == "madara"
    )
    variant = f"{demo.hub}/sites/{madara['name']}/variant"
    with signed_in(demo.app) as client:
        httpx.post(
            variant, json={"name": "chapters", "value": "broken"}, verify=TLS
        ).raise_for_status()
        failed = client.post(f"/api/v1/providers/{madara['name']}/test").json()
        httpx.post(
            variant, json={"name": "chapters", "value": "ajax_new"}, verify=TLS
        ).raise_for_status()
        passed = client.post(f"/api/v1/providers/{madara['name']}/test").json()
    assert (failed["is_success"], failed["error_kind"], failed["stage"]) == (
        False,
        "http_status",
        "chapters",
    ), failed
    assert (passed["is_success"], passed["stage"]) == (True, None), passed


def test_demo_registers_only_the_fake_sites(demo: Demo) -> None:
    sites = {site["name"] for site in httpx.get(f"{demo.hub}/sites", verify=TLS).json()}
    with signed_in(demo.app) as client:
        providers = client.get("/api/v1/providers/")
        assert providers.status_code == 200, providers.text
        assert {provider["provider_id"] for provider in providers.json()} == sites


def test_make_demo_passes_the_ports_on() -> None:
    """`make demo PORT=... HUB_PORT=...` (a dry run: the command make would run)."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        ["make", "-n", "demo", "PORT=8123", "HUB_PORT=8124"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    command = next(line for line in done.stdout.splitlines() if "kurobara demo" in line)
    assert "--port 8123" in command
    assert "--hub-port 8124" in command
