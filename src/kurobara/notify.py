"""Sending one message through Apprise, as the update and migration notice outboxes do."""

from __future__ import annotations

import asyncio

SEND_TIMEOUT_SECONDS = 10.0


async def send_apprise(urls: list[str], title: str, body: str) -> str | None:
    """Send to every Apprise URL; None when each took it, else what went wrong (the outbox
    keeps it as the message's last error and tries again later)."""
    import apprise

    client = apprise.Apprise()
    for url in urls:
        client.add(url)
    try:
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            ok = await client.async_notify(body=body, title=title)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if ok else "one or more Apprise URLs did not accept the message"
